# The guarded fetch of a source URL (workers/worker_fetch.c) through
# `video-worker fetch-url`, against servers on loopback addresses only:
# a nginx on 127.0.0.1 and 127.0.0.2 (files, redirects, a slow location, a
# TLS server with a self-signed certificate), a raw server (no length, a
# lying Content-Length) and a listener standing in for a proxy.  Loopback
# is refused unless allowed, whatever the URL's form, a name, or a
# redirect; redirects leave http(s) for nothing; sizes, times, statuses
# and TLS end with their reasons; proxies from the environment and .netrc
# change nothing.
# sanitizers: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use IO::Socket::INET;
use IO::Socket::IP;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-fetch";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 95;
my $tls = $port + 1;
my $raw = $port + 2;
my $proxy = $port + 3;
my $dead = $port + 4;       # where nothing listens
my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
my $A = "http://127.0.0.1:$port";
my $B = "http://127.0.0.2:$port";
my @kids;

# IPv6 loopback, where the machine has it
my $v6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1)
    ? 1 : 0;

END {
    kill 'TERM', @kids;
    waitpid($_, 0) for @kids;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir "$dir/$_" for qw(www home out);

sub spit {
    my ($file, $data) = @_;
    open my $fh, '>', $file or die "$file: $!";
    binmode $fh;
    print $fh $data;
    close $fh;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return undef;
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

# bytes no compression or encoding would leave alone by chance
my $clip = join '', map { chr(int(rand(256))) } 1 .. 300_000;
spit("$dir/www/clip.mp4", $clip);
spit("$dir/www/big.bin", 'b' x 204_800);
spit("$dir/www/slow.bin", 's' x 65_536);
chmod 0755, $dir, "$dir/www";
chmod 0644, glob("$dir/www/*");

# a .netrc a fetch must not use
spit("$dir/home/.netrc", "machine 127.0.0.1 login netrc-user password netrc-pass\n"
                         . "default login netrc-user password netrc-pass\n");
chmod 0600, "$dir/home/.netrc";

system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
       'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
       '-subj', '/CN=127.0.0.1', '-keyout', "$dir/tls.key",
       '-out', "$dir/tls.crt") == 0 or die "openssl failed\n";
system("chmod 0644 $dir/tls.key $dir/tls.crt");

# -- nginx: files and redirects on 127.0.0.1 and 127.0.0.2 -------------------

mkdir "$dir/logs";
mkdir "$dir/conf";
spit("$dir/conf/nginx.conf", <<"CONF");
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    log_format fetch '\$server_addr:\$server_port "\$request" \$status '
                     'auth=\$http_authorization';
    access_log logs/access.log fetch;
    client_body_temp_path $dir/body;
    types { video/mp4 mp4; }
    default_type application/octet-stream;
    root $dir/www;

    server {
        listen 127.0.0.1:$port;
        location = /unavailable { return 503; }
        location = /to-file { return 302 file:///etc/passwd; }
        location = /to-ftp { return 302 ftp://127.0.0.1:$port/clip.mp4; }
        location = /to-gopher { return 302 gopher://127.0.0.1:$port/_x; }
        location = /to-dict { return 302 dict://127.0.0.1:$port/x; }
        location = /loop { return 302 $A/loop; }
        location = /relative {
            absolute_redirect off;
            return 301 /clip.mp4;
        }
        location = /slow.bin { limit_rate 1k; }
    }

    server {
        listen 127.0.0.2:$port;
        location = /to-a { return 302 $A/clip.mp4; }
        location = /to-localhost { return 307 http://localhost:$port/clip.mp4; }
        location = /to-mapped { return 302 http://[::ffff:127.0.0.1]:$port/clip.mp4; }
        location = /to-decimal { return 302 http://2130706433:$port/clip.mp4; }
        location = /to-zero { return 302 http://0:$port/clip.mp4; }
        location = /to-userinfo { return 302 http://u:p\@127.0.0.2:$port/clip.mp4; }
        location = /to-metadata { return 302 http://169.254.169.254/latest/meta-data/; }
        location = /to-long { return 302 http://127.0.0.2:$port/${\ ('a/../' x 420)}clip.mp4; }
    }

${\ ($v6 ? "    server { listen [::1]:$port; }\n" : '')}
    server {
        listen 127.0.0.1:$tls ssl;
        ssl_certificate $dir/tls.crt;
        ssl_certificate_key $dir/tls.key;
    }
}
CONF

system($ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx', '-p', "$dir/", '-c',
       'conf/nginx.conf') == 0 or die "nginx failed to start\n";

for my $addr ("127.0.0.1:$port", "127.0.0.2:$port", "127.0.0.1:$tls") {
    wait_for(10, sub { IO::Socket::INET->new(PeerAddr => $addr) })
        or die "nginx does not listen on $addr\n";
}

# -- a raw server and a stand-in proxy -----------------------------------------

sub serve {
    my ($listen, $handler) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $listen,
                                  Listen => 16, ReuseAddr => 1)
        or die "cannot listen on $listen: $!\n";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        $SIG{TERM} = sub { POSIX::_exit(0) };
        while (my $c = $l->accept) {
            my $req = '';
            while (defined(my $line = <$c>)) {
                $req .= $line;
                last if $line =~ /^\r?\n\z/;
            }
            $handler->($c, $req);
            close $c;
        }
        POSIX::_exit(0);
    }
    close $l;
    push @kids, $pid;
}

serve($raw, sub {
    my ($c, $req) = @_;
    my ($path) = $req =~ m{^GET (\S+)};
    $path //= '';
    if ($path eq '/unbounded') {
        # no length: the body ends with the connection
        print $c "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n"
                 . "Connection: close\r\n\r\n", 'u' x 50_000;
    } elsif ($path eq '/lying') {
        # a small Content-Length, and a chunked body ten times larger
        print $c "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n"
                 . "Transfer-Encoding: chunked\r\n\r\n";
        print $c sprintf("%x\r\n%s\r\n", 1000, 'l' x 1000) for 1 .. 5;
        print $c "0\r\n\r\n";
    } elsif ($path eq '/huge-length') {
        print $c "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
                 'h' x 1000;
    } else {
        print $c "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
});

serve($proxy, sub {
    my ($c, $req) = @_;
    return if $req eq '';
    open my $log, '>>', "$dir/proxy.log";
    print $log $req;
    close $log;
    print $c "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied";
});

for my $p ($raw, $proxy) {
    wait_for(10, sub { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p") })
        or die "nothing listens on $p\n";
}

# the connection the readiness check made is not a fetch
unlink "$dir/proxy.log";

# -- fetch-url -----------------------------------------------------------------

my $out = "$dir/out/original";

# runs fetch-url with the shipped settings and %env; its exit status, its
# JSON line, its stderr and the seconds it took
sub fetch {
    my ($env, @args) = @_;
    unlink $out;
    my $t0 = Time::HiRes::time();
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        delete @ENV{grep { /^VIDEO_WORKER_|_proxy\z|_PROXY\z/i } keys %ENV};
        $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
        $ENV{HOME} = "$dir/home";
        @ENV{keys %$env} = values %$env;
        open STDERR, '>', "$dir/out/stderr" or POSIX::_exit(127);
        exec $bin, 'fetch-url', @args or POSIX::_exit(127);
    }
    my $line = do { local $/; <$fh> };
    close $fh;
    my $rc = $? >> 8;
    my $elapsed = Time::HiRes::time() - $t0;
    my $res = eval { JSON::PP->new->decode($line // '') };
    return ($rc, $res // { line => $line }, slurp("$dir/out/stderr") // '',
            $elapsed);
}

sub access_log {
    return slurp("$dir/logs/access.log") // '';
}

# requests of $path the nginx saw on $addr (127.0.0.1:port)
sub seen {
    my ($addr, $path) = @_;
    my @n = access_log() =~ /^\Q$addr\E "GET \Q$path\E HTTP/mg;
    return scalar @n;
}

my ($rc, $r, $err, $t);

# -- loopback: refused unless allowed, fetched byte for byte when it is ------

($rc, $r) = fetch({}, "$A/clip.mp4", $out);
is $rc, 1, 'a file on 127.0.0.1: exit status 1';
is $r->{ok}, JSON::PP::false, '... not ok';
is $r->{reason}, 'source address 127.0.0.1 is not public (loopback)',
    '... the reason names the address';
is $r->{kind}, 'address', '... an address refusal';
is $r->{transient}, JSON::PP::false, '... not worth retrying';
ok !-e $out, '... no file left';
is seen("127.0.0.1:$port", '/clip.mp4'), 0, '... nginx saw no request';

($rc, $r, $err) = fetch({}, '--allow', '127.0.0.1/32', '--progress', "$A/clip.mp4",
                        $out);
is $rc, 0, 'with --allow 127.0.0.1/32: exit status 0';
is_deeply $r, { ok => JSON::PP::true, bytes => 300_000,
                contentType => 'video/mp4', url => "$A/clip.mp4",
                status => 200, redirects => 0 },
    '... the result: bytes, type, effective URL';
ok slurp($out) eq $clip, '... the file is byte for byte the source';
my @progress = $err =~ /^progress (\d+) (-?\d+)$/mg;
ok @progress >= 2, '... progress was reported';
is "@progress[-2, -1]", '300000 300000', '... the last: all bytes of the total';

# the allow-list from the settings, as a job has it

($rc, $r) = fetch({ VIDEO_WORKER_FETCH_ALLOW => '10.0.0.0/8, 127.0.0.0/8' },
                  "$A/clip.mp4", $out);
is $r->{ok}, JSON::PP::true, 'fetch_allow = 127.0.0.0/8 allows it too';

($rc, $r) = fetch({ VIDEO_WORKER_FETCH_ALLOW => '127.0.0.2/32' }, "$A/clip.mp4",
                  $out);
is $r->{reason}, 'source address 127.0.0.1 is not public (loopback)',
    'fetch_allow = 127.0.0.2/32 does not allow 127.0.0.1';

# the IPv4 forms resolvers take are the same address

for my $form ("http://127.1:$port", "http://0x7f.1:$port",
              "http://2130706433:$port", "http://0177.0.0.1:$port",
              "http://017700000001:$port", "http://[::ffff:127.0.0.1]:$port",
              "http://[::ffff:7f00:1]:$port") {
    ($rc, $r) = fetch({}, "$form/clip.mp4", $out);
    like $r->{reason}, qr/^source address (?:::ffff:)?127\.0\.0\.1 is not public \(loopback(?:, IPv4-mapped)?\)\z/,
        "$form: refused as 127.0.0.1";
}

($rc, $r) = fetch({}, "http://0:$port/clip.mp4", $out);
is $r->{reason}, 'source address 0.0.0.0 is not public (unspecified)',
    'http://0: refused as 0.0.0.0, which Linux connects to itself';

($rc, $r) = fetch({}, '--allow', '127.0.0.1', "http://2130706433:$port/clip.mp4",
                  $out);
is $r->{url}, "$A/clip.mp4", 'allowed, 2130706433 is fetched as 127.0.0.1';
ok slurp($out) eq $clip, '... the same bytes';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "http://[::ffff:127.0.0.1]:$port/clip.mp4",
                  $out);
is $r->{ok}, JSON::PP::true, 'an IPv4-mapped address is allowed as its IPv4 address';

SKIP: {
    skip 'no IPv6 loopback', 4 unless $v6;
    ($rc, $r) = fetch({}, "http://[::1]:$port/clip.mp4", $out);
    is $r->{reason}, 'source address ::1 is not public (loopback)',
        'a file on [::1]: refused';
    is seen("::1:$port", '/clip.mp4'), 0, '... nginx saw no request';
    ($rc, $r) = fetch({}, '--allow', '::1/128', "http://[0:0::1]:$port/clip.mp4", $out);
    is $r->{url}, "http://[::1]:$port/clip.mp4", 'with --allow ::1/128: fetched';
    ok slurp($out) eq $clip, '... byte for byte';
}

# a name: judged on the address connected to

($rc, $r) = fetch({}, "http://localhost:$port/clip.mp4", $out);
like $r->{reason}, qr/^source address (?:127\.0\.0\.1|::1) is not public \(loopback\)\z/,
    'localhost: refused on the address it resolves to';
is $r->{kind}, 'address', '... an address refusal';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "http://LocalHost:$port/clip.mp4",
                  $out);
is $r->{ok}, JSON::PP::true, 'localhost with 127.0.0.1 allowed: fetched';
is $r->{url}, "http://localhost:$port/clip.mp4", '... its URL in its normal form';

# -- redirects -----------------------------------------------------------------

my $before = seen("127.0.0.1:$port", '/clip.mp4');

($rc, $r) = fetch({}, '--allow', '127.0.0.2/32', "$B/to-a", $out);
is $rc, 1, 'a redirect from 127.0.0.2 (allowed) to 127.0.0.1 (not): refused';
is $r->{reason}, 'source address 127.0.0.1 is not public (loopback)',
    '... on the address redirected to';
is $r->{url}, "$A/clip.mp4", '... the URL it was refused at';
is seen("127.0.0.1:$port", '/clip.mp4'), $before, '... 127.0.0.1 saw no request';
is seen("127.0.0.2:$port", '/to-a'), 1, '... 127.0.0.2 saw the first';

($rc, $r) = fetch({}, '--allow', '127.0.0.2/32', '--allow', '127.0.0.1/32',
                  "$B/to-a", $out);
is $r->{ok}, JSON::PP::true, 'with both allowed, the redirect is followed';
is $r->{redirects}, 1, '... one redirect';
is $r->{url}, "$A/clip.mp4", '... the effective URL';
ok slurp($out) eq $clip, '... the file is the source';

for my $case (['/to-localhost', qr/^source address (?:127\.0\.0\.1|::1) is not public \(loopback\)\z/],
              ['/to-mapped', qr/^source address ::ffff:127\.0\.0\.1 is not public \(loopback, IPv4-mapped\)\z/],
              ['/to-decimal', qr/^source address 127\.0\.0\.1 is not public \(loopback\)\z/],
              ['/to-zero', qr/^source address 0\.0\.0\.0 is not public \(unspecified\)\z/],
              ['/to-metadata', qr/^source address 169\.254\.169\.254 is not public \(link-local\)\z/]) {
    my ($path, $why) = @$case;
    $before = seen("127.0.0.1:$port", '/clip.mp4');
    ($rc, $r) = fetch({}, '--allow', '127.0.0.2/32', "$B$path", $out);
    like $r->{reason}, $why, "a redirect $path from an allowed host: refused";
    is seen("127.0.0.1:$port", '/clip.mp4'), $before, '... nothing reached 127.0.0.1';
}

($rc, $r) = fetch({}, '--allow', '127.0.0.2/32', "$B/to-long", $out);
is $r->{reason}, 'redirect to a refused URL: URL longer than 2048 bytes',
    'a redirect to a URL over 2048 bytes (its dot segments aside): refused';

($rc, $r) = fetch({}, '--allow', '127.0.0.2/32', "$B/to-userinfo", $out);
is $r->{reason}, 'redirect to a refused URL: URL has a user name or password',
    'a redirect to a URL with a password: refused';

for my $path ('/to-file', '/to-ftp', '/to-gopher', '/to-dict') {
    ($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "$A$path", $out);
    is $r->{reason}, 'redirect to a non-http(s) URL', "$path: refused";
    is $r->{kind}, 'redirect', '... a redirect refusal';
    ok !-e $out, '... no file';
}

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "$A/relative", $out);
is $r->{url}, "$A/clip.mp4", 'a relative Location is resolved against the URL';
is $r->{redirects}, 1, '... one redirect';

$before = seen("127.0.0.1:$port", '/loop');
($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "$A/loop", $out);
is $r->{reason}, 'more than 5 redirects', 'a redirect loop: more than 5 (fetch_max_redirects)';
is $r->{kind}, 'redirects', '... its kind';
is seen("127.0.0.1:$port", '/loop') - $before, 6, '... after 6 requests';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--max-redirects', '0', "$A/relative",
                  $out);
is $r->{reason}, 'more than 0 redirects', '--max-redirects 0: none followed';

# -- statuses, sizes, times, TLS ---------------------------------------------

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "$A/missing.mp4", $out);
is $r->{reason}, 'HTTP 404 from source', 'a 404: its reason';
is $r->{status}, 404, '... its status';
is $r->{transient}, JSON::PP::false, '... not worth retrying';
ok !-e $out, '... no file';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "http://127.0.0.1:$dead/clip.mp4",
                  $out);
like $r->{reason}, qr/^cannot connect to the source: /,
    'an allowed address where nothing listens: its reason';
is $r->{kind}, 'network', '... a network failure';
is $r->{transient}, JSON::PP::true, '... worth retrying';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "$A/unavailable", $out);
is $r->{reason}, 'HTTP 503 from source', 'a 503: its reason';
is $r->{transient}, JSON::PP::true, '... worth retrying';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--max-bytes', '1000', "$A/big.bin", $out);
is $r->{reason}, 'source larger than 1000 bytes (Content-Length: 204800)',
    'a Content-Length over --max-bytes: refused up front';
is $r->{kind}, 'too-big', '... its kind';
ok !-e $out, '... no file';

($rc, $r) = fetch({ VIDEO_WORKER_FETCH_MAX_BYTES => 204_799 }, '--allow', '127.0.0.1/32',
                  "$A/big.bin", $out);
is $r->{reason}, 'source larger than 204799 bytes (Content-Length: 204800)',
    'fetch_max_bytes one byte short: refused';

($rc, $r) = fetch({ VIDEO_WORKER_FETCH_MAX_BYTES => 204_800 }, '--allow', '127.0.0.1/32',
                  "$A/big.bin", $out);
is $r->{bytes}, 204_800, 'fetch_max_bytes exactly the size: fetched';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--max-bytes', '1000',
                  "http://127.0.0.1:$raw/unbounded", $out);
is $r->{reason}, 'source larger than 1000 bytes',
    'no Content-Length: aborted once more than --max-bytes arrived';
ok !-e $out, '... no file';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--max-bytes', '100000',
                  "http://127.0.0.1:$raw/unbounded", $out);
is $r->{bytes}, 50_000, 'no Content-Length, under the limit: fetched';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--max-bytes', '1000',
                  "http://127.0.0.1:$raw/lying", $out);
is $r->{reason}, 'source larger than 1000 bytes',
    'a Content-Length of 500 over a chunked body of 5000: aborted at the limit';

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "http://127.0.0.1:$raw/huge-length", $out);
is $r->{reason}, 'source larger than 53687091200 bytes (Content-Length: 99999999999)',
    'over the default 50 GiB: refused up front';

($rc, $r, $err, $t) = fetch({}, '--allow', '127.0.0.1/32', '--timeout', '2',
                            "$A/slow.bin", $out);
is $r->{reason}, 'timed out after 2 s', 'a slow source: --timeout';
is $r->{kind}, 'timeout', '... its kind';
ok $t >= 1.9 && $t < 8, "... after about 2 s ($t)";
ok !-e $out, '... no file';

($rc, $r, $err, $t) = fetch({}, '--allow', '127.0.0.1/32', '--timeout', '30',
                            '--low-speed-limit', '50000', '--low-speed-time', '1',
                            "$A/slow.bin", $out);
is $r->{reason}, 'source slower than 50000 bytes/s for 1 s',
    'a slow source: the low-speed limit';
ok $t < 10, "... long before the timeout ($t)";

($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', "https://127.0.0.1:$tls/clip.mp4", $out);
like $r->{reason}, qr/^TLS error: .*certificate/, 'a self-signed certificate: a TLS error';
is $r->{kind}, 'tls', '... its kind';

($rc, $r) = fetch({}, "https://127.0.0.1:$tls/clip.mp4", $out);
is $r->{reason}, 'source address 127.0.0.1 is not public (loopback)',
    'https to loopback: refused before any handshake';

# -- proxies from the environment and .netrc change nothing -----------------

my $p = "http://127.0.0.1:$proxy";
my %proxies = (http_proxy => $p, HTTP_PROXY => $p, https_proxy => $p,
               HTTPS_PROXY => $p, ALL_PROXY => $p, all_proxy => $p);

($rc, $r) = fetch(\%proxies, '--allow', '127.0.0.1/32', "$A/clip.mp4", $out);
is $r->{ok}, JSON::PP::true, 'with http_proxy, https_proxy, ALL_PROXY set: fetched';
ok slurp($out) eq $clip, '... directly: the source, not the proxy\'s answer';
($rc, $r) = fetch(\%proxies, '--allow', '127.0.0.1/32', "http://localhost:$port/clip.mp4",
                  $out);
is $r->{ok}, JSON::PP::true, '... a name too';
($rc, $r) = fetch(\%proxies, "http://203.0.113.7/clip.mp4", $out);
is $r->{reason}, 'source address 203.0.113.7 is not public (documentation)',
    '... a refused address is not handed to the proxy';
is slurp("$dir/proxy.log") // '', '', '... the proxy saw no request';

unlike access_log(), qr/auth=(?!-)/, 'no request carried credentials (.netrc ignored)';

# -- what the command refuses to start with ----------------------------------

for my $case ([['--allow', '10.0.0.1/8', "$A/clip.mp4", $out],
               qr/address has bits set beyond the prefix length/],
              [['--allow', 'localhost', "$A/clip.mp4", $out],
               qr/not an IPv4 or IPv6 address/],
              [['--max-bytes', 'abc', "$A/clip.mp4", $out],
               qr/--max-bytes "abc" is not a number/],
              [['--max-bytes', '0', "$A/clip.mp4", $out],
               qr/--max-bytes "0" is not a number/],
              [['--max-bytes', '-5', "$A/clip.mp4", $out],
               qr/--max-bytes "-5" is not a number/],
              [['--timeout', '0', "$A/clip.mp4", $out],
               qr/--timeout "0" is not a number/],
              [['--max-redirects', '21', "$A/clip.mp4", $out],
               qr/--max-redirects "21" is not a number/],
              [['--frobnicate', '1', "$A/clip.mp4", $out], qr/unknown option/],
              [["$A/clip.mp4"], qr/usage: video-worker fetch-url/],
              [["$A/clip.mp4", $out, 'extra'], qr/unexpected "extra"/],
              [["$A/clip.mp4", $out, '--allow'], qr/--allow needs a value/]) {
    my ($args, $why) = @$case;
    ($rc, $r, $err) = fetch({}, @$args);
    is $rc, 2, "fetch-url with @$args[0 .. $#$args - 1]...: exit status 2";
    like $err, $why, '... it says why';
    ok !-e $out, '... no file';
}

($rc, $r, $err) = fetch({ VIDEO_WORKER_FETCH_ALLOW => '127.0.0.1/33' }, "$A/clip.mp4", $out);
is $rc, 1, 'an invalid fetch_allow stops the command';
like $err, qr/invalid "fetch_allow" value: "127\.0\.0\.1\/33": prefix length too long/,
    '... naming the entry';

for my $case ([FETCH_MAX_BYTES => '0', qr/invalid "fetch_max_bytes" value "0"/],
              [FETCH_MAX_BYTES => '50G', qr/invalid "fetch_max_bytes" value "50G"/],
              [FETCH_TIMEOUT => '0', qr/invalid "fetch_timeout" value "0"/],
              [FETCH_CONNECT_TIMEOUT => '601', qr/invalid "fetch_connect_timeout" value "601"/],
              [FETCH_MAX_REDIRECTS => '-1', qr/invalid "fetch_max_redirects" value "-1"/],
              [FETCH_LOW_SPEED_TIME => 'x', qr/invalid "fetch_low_speed_time" value "x"/]) {
    my ($name, $value, $why) = @$case;
    ($rc, $r, $err) = fetch({ "VIDEO_WORKER_$name" => $value }, '--allow', '127.0.0.1/32',
                            "$A/clip.mp4", $out);
    is $rc, 1, "VIDEO_WORKER_$name=$value stops the command";
    like $err, $why, '... naming the setting';
    ok !-e $out, '... no file';
}

# a name whose only address is refused, and one whose allowed address
# does not answer: the refusal, then a network failure
($rc, $r) = fetch({}, "http://localhost:$dead/clip.mp4", $out);
is $r->{kind}, 'address', 'localhost, nothing allowed: an address refusal';
($rc, $r) = fetch({}, '--allow', '127.0.0.1/32', '--allow', '::1/128',
                  "http://localhost:$dead/clip.mp4", $out);
is $r->{kind}, 'network', 'localhost allowed where nothing listens: a network failure';

for my $case (['ftp://127.0.0.1/clip.mp4', 'only http and https URLs are fetched'],
              ['file:///etc/passwd', 'only http and https URLs are fetched'],
              ['gopher://127.0.0.1:6379/_INFO', 'only http and https URLs are fetched'],
              ["http://user:pass\@127.0.0.1:$port/clip.mp4", 'URL has a user name or password'],
              ['http:///clip.mp4', 'URL has no host'],
              ["http://127.0.0.1:99999/", 'invalid port'],
              ["http://b\xc3\xbccher.example/", 'host name is not ASCII (IDN): send its punycode (xn--) form'],
              ["http://127.0.0.1:$port/" . ('a' x 2100), 'URL longer than 2048 bytes'],
              ["http://127.0.0.1:$port/a b", 'URL contains a space or a control character']) {
    my ($url, $why) = @$case;
    ($rc, $r) = fetch({}, '--allow', '0.0.0.0/0', $url, $out);
    is $r->{reason}, "source URL refused: $why", substr($url, 0, 40) . ': refused';
    is $r->{kind}, 'url', '... a URL refusal';
}

done_testing();
