# Helpers the suites share: SQL against the test database and control of
# the test stack's servers.  The settings come from scripts/test.sh.
package VideoApi;

use strict;
use warnings;
use Exporter 'import';
use MIME::Base64 ();
use Time::HiRes ();
use IO::Socket::INET;

our @EXPORT = qw(psql stack seed_video cursor_for http_get wait_for);

sub conninfo {
    return $ENV{TEST_NGINX_PG_CONNINFO}
        // die "TEST_NGINX_PG_CONNINFO is not set: run the suites through make test\n";
}

# runs SQL, dies on error, returns the rows as "a|b" lines joined by "\n"
sub psql {
    my ($sql) = @_;
    open my $fh, '-|', 'psql', conninfo(), qw(-XAtq -v ON_ERROR_STOP=1 -c), $sql
        or die "psql: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh or die "psql failed ($?): $sql\n";
    $out =~ s/\n\z//;
    return $out;
}

# scripts/stack.sh with the test stack's environment, e.g. stack(qw(stop pg))
sub stack {
    my @args = @_;
    my $out = qx{scripts/stack.sh @args 2>&1};
    die "scripts/stack.sh @args failed: $out" if $?;
    return $out;
}

# inserts a video; created_at is now() minus $age seconds
sub seed_video {
    my (%v) = @_;
    my $age = delete $v{age} // 0;
    my @cols = sort keys %v;
    my $vals = join ', ', map { defined $v{$_} ? "'" . $v{$_} =~ s/'/''/gr . "'" : 'NULL' } @cols;
    psql(sprintf "INSERT INTO videos (%s, created_at, updated_at) VALUES (%s, now() - interval '%d seconds', now() - interval '%d seconds')",
         join(', ', @cols), $vals, $age, $age);
}

# the cursor the API gives after the video with this id
sub cursor_for {
    my ($id) = @_;
    my $micros = psql("SELECT (extract(epoch FROM created_at) * 1000000)::bigint FROM videos WHERE id = '$id'");
    my $c = MIME::Base64::encode_base64url("$micros.$id");
    return $c;
}

# a plain GET against the test nginx: (status, body)
sub http_get {
    my ($path) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ENV{TEST_NGINX_SERVER_PORT} // 1984,
                                     Timeout => 5) or return (0, '');
    print $sock "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$sock> // '';
    my ($status) = $resp =~ m{^HTTP/1\.\d (\d+)};
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return ($status // 0, $body // '');
}

# polls $check until it returns true, for at most $seconds
sub wait_for {
    my ($seconds, $check) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        return 1 if $check->();
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

1;
