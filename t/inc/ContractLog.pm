# Records every answer the suites get, for scripts/contract.mjs to check
# against docs/openapi.json: with VIDEO_API_CONTRACT_LOG set to a file,
# each answer appends one JSON line
#     {"suite", "method", "path", "query", "status", "content_type", "body"}
# (body only for JSON answers).  Unset, nothing is recorded.
package ContractLog;

use strict;
use warnings;
use JSON::PP ();
use Encode ();
use Fcntl qw(O_WRONLY O_APPEND O_CREAT);

my $json = JSON::PP->new->canonical->utf8(1);

sub enabled { return defined $ENV{VIDEO_API_CONTRACT_LOG}
                     && $ENV{VIDEO_API_CONTRACT_LOG} ne '' }

# record(method, target, status, content_type, body): target is the request
# target (path and query, or an absolute URL)
sub record {
    my ($method, $target, $status, $type, $body) = @_;
    return unless enabled();
    return unless defined $method && defined $target;

    $target =~ s{\A[a-z][a-z0-9+.-]*://[^/?#]*}{}i;
    $target =~ s/#.*//s;
    my ($path, $query) = $target =~ /\A([^?]*)(?:\?(.*))?\z/s;
    $path = '/' if !defined $path || $path eq '';

    my %line = (
        suite        => $0,
        method       => uc $method,
        path         => $path,
        status       => defined $status && $status =~ /^\d+$/ ? $status + 0
                                                             : 0,
        content_type => $type // '',
    );
    $line{query} = $query if defined $query;
    if (($type // '') =~ m{\bjson\b}i) {
        # the body's bytes as UTF-8 text (a bad sequence stays visible)
        $line{body} = Encode::decode('UTF-8', $body // '',
                                     Encode::FB_DEFAULT);
    }

    my $text = $json->encode(\%line);

    sysopen(my $fh, $ENV{VIDEO_API_CONTRACT_LOG}, O_WRONLY | O_APPEND | O_CREAT,
            0644) or return;
    # one write per line, so suites running at once do not interleave
    syswrite($fh, "$text\n");
    close $fh;
}

1;
