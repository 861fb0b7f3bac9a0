# Helpers the suites share: SQL against the test database and control of
# the test stack's servers.  The settings come from scripts/test.sh.
package VideoApi;

use strict;
use warnings;
use Exporter 'import';
use MIME::Base64 ();
use Time::HiRes ();
use IO::Socket::INET;
use File::Temp ();
use POSIX ();
use JSON::PP ();
use Test::More ();
use ContractLog ();

our @EXPORT = qw(psql stack seed_video cursor_for http_get http_request wait_for
                 nginx_start nginx_stop nginx_worker_pid curl
                 store_server probe_location rtmp_block callbacks_location
                 worker_env worker_start quota_drift api_key keyed
                 access_reset contract_record
                 media_reset media_conf media_locations upload_video
                 video_column wait_video_done read_worker_log
                 need_browsers browsers_missing browser_suite page_csp page_locations suite_places);

sub conninfo {
    return $ENV{TEST_NGINX_PG_CONNINFO}
        // die "TEST_NGINX_PG_CONNINFO is not set: run the suites through make test\n";
}

# The key the suites call the API with, video_api_auth being on by
# default: an admin key of the default account, made once per suite by the
# command line.  http_request and curl send it to /api/ paths unless the
# call sends an Authorization header of its own; a suite about callers
# and their keys sets $VideoApi::KEY = '' and says who calls each time.
our $KEY;

sub api_key {
    return $KEY if defined $KEY;
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = conninfo();
    chomp(my $k = qx{build/video-worker keys create --account default --role admin --name test-suite 2>/dev/null});
    die "the suite's API key could not be made (build/video-worker keys create)\n" unless $k =~ /\Avapi_\w+\z/;
    return $KEY = $k;
}

# Access suites start from the default account alone, with no videos,
# uploads, keys or audit rows; then the command line makes the accounts
# (accounts => [[id, more arguments...], ...]) and the keys (keys =>
# [[name, account, role], ...]).  Returns name => key.
sub access_reset {
    my (%opt) = @_;
    my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = conninfo();
    psql('TRUNCATE videos, uploads, audit_log, webhook_endpoints, webhook_events, webhook_sequences CASCADE');
    psql('DELETE FROM api_keys');
    psql("DELETE FROM accounts WHERE id <> 'default'");
    for my $a (@{$opt{accounts} // []}) {
        my ($id, @more) = @$a;
        my $out = qx{$bin accounts create --id $id --name $id @more 2>&1};
        die "account $id not made: $out" if $?;
    }
    my %key;
    for my $k (@{$opt{keys} // []}) {
        my ($name, $account, $role) = @$k;
        chomp(my $v = qx{$bin keys create --account $account --role $role --name $name 2>/dev/null});
        die "key $name not made\n" unless $v =~ /\Avapi_\w+\z/;
        $key{$name} = $v;
    }
    return %key;
}

# the Authorization header for a request to $path, or ''
sub key_header {
    my ($path) = @_;
    return '' unless ($path // '') =~ m{\A(?:https?://[^/]+)?/api/};
    my $k = api_key();
    return $k eq '' ? '' : "Authorization: Bearer $k";
}

# A Test::Nginx block preprocessor step, last in a suite's own: the
# block's requests carry the suite's key, unless its more_headers name an
# Authorization header or it has a "--- anonymous" section.
sub keyed {
    my ($block) = @_;
    return if $block->can('anonymous') && defined $block->anonymous;
    my $more = $block->more_headers;
    return if ref $more;
    return if defined $more && $more =~ /^Authorization:/mi;
    my $h = key_header('/api/');
    return if $h eq '';
    $block->set_value('more_headers', defined $more && $more ne '' ? "$more\n$h" : $h);
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

# the accounts whose use counts (conf/sql/0010_quota.sql) differ from
# what the videos and uploads tables hold: '' when every one agrees
sub quota_drift {
    return psql(<<'SQL');
SELECT COALESCE(string_agg(a.id, ' '), '') FROM accounts a WHERE
    (a.used_videos, a.used_bytes, a.open_live, a.live_now) IS DISTINCT FROM (
    (SELECT count(*) FROM videos v WHERE v.account_id = a.id)
      + (SELECT count(*) FROM uploads u
         WHERE u.account_id = a.id AND u.completed_at IS NULL),
    (SELECT COALESCE(sum(v.original_size), 0) FROM videos v
     WHERE v.account_id = a.id)
      + (SELECT COALESCE(sum(u.size), 0) FROM uploads u
         WHERE u.account_id = a.id AND u.completed_at IS NULL),
    (SELECT count(*) FROM videos v WHERE v.account_id = a.id
     AND v.video_type = 'LIVE' AND v.live_ended_at IS NULL),
    (SELECT count(*) FROM videos v WHERE v.account_id = a.id
     AND v.is_live_now))
SQL
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
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    contract_record('GET', $path, $status, $head, $body);
    return ($status // 0, $body // '');
}

# one request to 127.0.0.1:$port: (status, body, seconds taken)
sub http_request {
    my ($port, $method, $path, $body, $headers) = @_;
    my $t0 = Time::HiRes::time();
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Timeout => 30) or return (0, '', 0);
    my $req = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    $req .= $headers // '';
    if (($headers // '') !~ /^Authorization:/mi and my $auth = key_header($path)) {
        $req .= "$auth\r\n";
    }
    if (defined $body) {
        $req .= "Content-Type: application/json\r\nContent-Length: "
                . length($body) . "\r\n";
    }
    print $sock $req . "\r\n" . ($body // '');
    local $/;
    my $resp = <$sock> // '';
    my ($status) = $resp =~ m{^HTTP/1\.\d (\d+)};
    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    contract_record($method, $path, $status, $head, $rbody);
    return ($status // 0, $rbody // '', Time::HiRes::time() - $t0);
}

# curl with these arguments: (status, body, headers)
sub curl {
    my (@args) = @_;
    my ($url) = grep { m{\Ahttps?://} } @args;
    if (!grep { /\AAuthorization:/i } @args and my $auth = key_header($url)) {
        unshift @args, '-H', $auth;
    }
    my $hdr = File::Temp->new;
    open my $fh, '-|', 'curl', '-s', '--path-as-is', '-D', $hdr->filename,
         '-o', '-', '-w', '\n%{http_code}', @args or die $!;
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my ($body, $status) = $out =~ /\A(.*)\n(\d+)\z/s;
    my $headers = do { local (@ARGV, $/) = ($hdr->filename); <> } // '';
    if (ContractLog::enabled() and defined $url) {
        # the method curl used: -X, else HEAD for -I, POST with data
        my $method = 'GET';
        for my $i (0 .. $#args) {
            my $a = $args[$i];
            if ($a =~ /\A(?:-X|--request)\z/ and defined $args[$i + 1]) {
                $method = $args[$i + 1];
                last;
            }
            if ($a =~ /\A-X(\S+)\z/) { $method = $1; last }
            $method = 'HEAD' if $a =~ /\A(?:-I|--head)\z/;
            $method = 'POST' if $method eq 'GET'
                and $a =~ /\A(?:-d|--data(?:-\w+)?|-F|--form)\z/;
            $method = 'PUT' if $method eq 'GET'
                and $a =~ /\A(?:-T|--upload-file)\z/;
        }
        # the last answer's headers (after any 100 Continue)
        my @blocks = grep { /\S/ } split /\r?\n\r?\n/, $headers;
        contract_record($method, $url, $status, $blocks[-1] // '', $body);
    }
    return ($status // 0, $body // '', $headers);
}

# one answer for the contract log (scripts/contract.mjs), for suites that
# make requests of their own: the Content-Type from the header text
sub contract_record {
    my ($method, $target, $status, $head, $body) = @_;
    return unless ContractLog::enabled();
    my ($type) = ($head // '') =~ /^Content-Type:[ \t]*([^\r\n]*)/mi;
    ContractLog::record($method, $target, $status, $type, $body);
}

# an nginx of the suite's own (for scenarios that must span one nginx
# lifetime): $dir is its prefix, $http the http{} contents
# nginx.conf text: the local object store on $port serving $root, as
# conf/nginx.conf has it, with uploads up to $max_body
sub store_server {
    my ($port, $root, $max_body) = @_;
    return <<"CONF";
    server {
        listen 127.0.0.1:$port;
        root $root;
        client_max_body_size $max_body;
        client_body_temp_path $root/.incoming;
        location / {
            video_api_store on;
        }
    }
CONF
}

# the internal location the upload routes ask storage through
sub probe_location {
    my ($endpoint) = @_;
    return <<"CONF";
        location /_video_api/storage/ {
            internal;
            proxy_pass $endpoint/;
            proxy_pass_request_headers off;
            subrequest_output_buffer_size 512k;
        }
CONF
}

# the flashVer of rtmp_block's push, for video_api_live_relay_secret
our $RELAY_SECRET = 'test-relay-secret-0123456789abc';

# nginx.conf text: the location of nginx-rtmp's callbacks, loopback only,
# as conf/nginx.conf has it
sub callbacks_location {
    return <<'CONF';
        location ~ ^/api/live/(verify|unpublish|record|relay) {
            allow 127.0.0.1;
            deny all;
            video_api live_callbacks;
        }
CONF
}

# nginx.conf text: RTMP ingest on $rtmp as conf/nginx.conf has it, with
# nginx-rtmp's callbacks to the API on $http, HLS written under $hls and
# recordings under $rec
sub rtmp_block {
    my ($rtmp, $http, $hls, $rec) = @_;
    return <<"CONF";
rtmp {
    server {
        listen 127.0.0.1:$rtmp;
        application live {
            live on;
            deny play all;
            push rtmp://127.0.0.1:$rtmp/hls flashVer=$RELAY_SECRET;
            record all;
            record_path $rec;
            record_unique on;
            record_suffix .flv;
            on_publish http://127.0.0.1:$http/api/live/verify;
            on_publish_done http://127.0.0.1:$http/api/live/unpublish;
            on_record_done http://127.0.0.1:$http/api/live/record;
        }
        application hls {
            live on;
            allow publish 127.0.0.1;
            deny publish all;
            deny play all;
            on_publish http://127.0.0.1:$http/api/live/relay;
            hls on;
            hls_path $hls;
            hls_nested on;
            hls_fragment 2s;
            hls_playlist_length 10s;
        }
    }
}
CONF
}

# Under TEST_NGINX_USE_VALGRIND (scripts/test.sh's memcheck pass) nginx
# runs in one foreground process under valgrind; nginx_stop prints what
# valgrind found, where the pass looks for it.
my %valgrind;

sub nginx_start {
    my ($dir, $port, $http, $server, %opt) = @_;
    $server //= '';
    my $workers = $opt{workers} // 1;
    # main: blocks beside http (rtmp); the main error log (nginx-rtmp's)
    # may log less than http's
    my $main = $opt{main} // '';
    my $main_log = $opt{main_log_level} // 'info';
    # http_first: http{} directives that must come before the servers
    # (log_format)
    my $first = $opt{http_first} // '';
    my $bin = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my @mods = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    my $vg = $ENV{TEST_NGINX_USE_VALGRIND};
    # keep what the suite put there already (data directories); start
    # with fresh logs and configuration
    system('rm', '-rf', "$dir/logs", "$dir/conf");
    mkdir $dir; mkdir "$dir/logs"; mkdir "$dir/conf";
    open my $fh, '>', "$dir/conf/nginx.conf" or die $!;
    print $fh map { "load_module $_;\n" } @mods;
    print $fh "daemon off;\nmaster_process off;\n" if $vg;
    print $fh <<"CONF";
worker_processes $workers;
error_log logs/error.log $main_log;
pid logs/nginx.pid;
events { worker_connections 1024; }
$main
http {
    error_log logs/error.log info;
    access_log off;
    client_body_temp_path $dir/body;
$first
    server {
        listen 127.0.0.1:$port;
        location /api/ { video_api all; }
        location = /health { video_api health; }
$server
    }
$http
}
CONF
    close $fh;
    my @cmd = ($bin, '-p', "$dir/", '-c', 'conf/nginx.conf');
    if ($vg) {
        unshift @cmd, qw(valgrind -q --tool=memcheck --leak-check=full
                         --show-possibly-lost=no --num-callers=50),
                      "--log-file=$dir/logs/valgrind.log",
                      -f 'valgrind.suppress' ? '--suppressions=valgrind.suppress' : ();
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', "$dir/logs/stderr.log";
            exec { $cmd[0] } @cmd or POSIX::_exit(127);
        }
        $valgrind{$dir} = $pid;
    } else {
        system(@cmd) == 0 or die "nginx failed to start\n";
    }
    wait_for($vg ? 60 : 5, sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                                       PeerPort => $port) })
        or die "nginx did not listen on $port\n";
}

sub nginx_stop {
    my ($dir) = @_;
    my $pid = read_pid("$dir/logs/nginx.pid") or return;
    kill 'QUIT', $pid;
    wait_for(30, sub { !kill 0, $pid });
    my $child = delete $valgrind{$dir} or return;
    waitpid($child, 0);
    my $log = do { local (@ARGV, $/) = ("$dir/logs/valgrind.log"); <> } // '';
    print STDERR "valgrind ($dir):\n$log" if $log =~ /\S/;
}

sub read_pid {
    my ($file) = @_;
    open my $fh, '<', $file or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

# the pid of the (single) worker of the nginx whose master is in $dir
sub nginx_worker_pid {
    my ($dir) = @_;
    my $master = read_pid("$dir/logs/nginx.pid") or return;
    my $kids = qx{pgrep -P $master};
    my ($pid) = split /\s+/, $kids;
    return $pid;
}

# the settings of build/video-worker for a suite whose nginx listens on
# $port with its object store at $endpoint and its files under $dir
sub worker_env {
    my ($dir, $port, $endpoint, %more) = @_;
    return (
        VIDEO_WORKER_CONF => "$ENV{PWD}/conf/worker.conf",
        VIDEO_WORKER_POSTGRES => $ENV{TEST_NGINX_PG_CONNINFO},
        VIDEO_WORKER_REDIS => "127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT}",
        VIDEO_WORKER_AMQP => "amqp://video:video\@127.0.0.1:$ENV{TEST_NGINX_AMQP_PORT}/",
        VIDEO_WORKER_STORAGE_ENDPOINT => $endpoint,
        # the suites' stores use these keys (conf/worker.conf holds
        # placeholders)
        VIDEO_WORKER_STORAGE_ACCESS_KEY => 'videoapi',
        VIDEO_WORKER_STORAGE_SECRET_KEY => 'videoapi-secret',
        VIDEO_WORKER_PUBLIC_URL => "http://127.0.0.1:$port",
        VIDEO_WORKER_WORK_DIR => "$dir/work",
        VIDEO_WORKER_RELAY_POLL_SECONDS => 1,
        VIDEO_WORKER_MAX_ATTEMPTS => 3,
        # suites run side by side: their workers' metrics listen only
        # where a suite asks (t/033, t/034)
        VIDEO_WORKER_METRICS_LISTEN => 'off',
        %more,
    );
}

# runs the worker program ($VIDEO_API_TEST_WORKER, build/video-worker
# unless scripts/test.sh's sanitizer pass says otherwise) as $role with
# %env, logging to $dir/logs/worker-$role.log; its pid
sub worker_start {
    my ($dir, $role, %env) = @_;
    my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # the worker is told to stop (SIGTERM) when the suite dies, however
        # it dies (an interrupted prove), so it never takes the jobs of the
        # next run's stack: prctl(PR_SET_PDEATHSIG, SIGTERM), Linux x86-64
        syscall(157, 1, 15) if $^O eq 'linux';
        @ENV{keys %env} = values %env;
        open STDERR, '>>', "$dir/logs/worker-$role.log" or POSIX::_exit(1);
        open STDOUT, '>&', \*STDERR;
        exec $bin, $role or POSIX::_exit(127);
    }
    return $pid;
}

# -- the media pipeline's suites (workers, hostile media, the corpus) -------

# a clean start for a suite of its own nginx and workers: $dir made anew
# with the store's buckets under $data, no videos, jobs or cache left of
# earlier runs (their jobs must not reach this run's workers)
sub media_reset {
    my ($dir, $data) = @_;
    system('rm', '-rf', $dir);
    mkdir $dir;
    mkdir $data;
    mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
    system('chown', '-R', 'nobody', $data) if $> == 0;

    psql('TRUNCATE videos, outbox CASCADE');
    system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");
    system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
        for qw(video-transcode video-cleanup video-chunk);
}

# nginx.conf text for http{}: the API on $port with the test stack's
# servers, storage on $store serving $data (store_server)
sub media_conf {
    my ($port, $store, $data) = @_;
    return <<"CONF";
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=http://127.0.0.1:$store region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '100m')}
CONF
}

# nginx.conf text for the API's server{}: playback with its media from
# $data, and the storage probe (probe_location); with json_404 => 1, a
# file not there answered as the API answers (JSON), not with nginx's page
sub media_locations {
    my ($data, $endpoint, %opt) = @_;
    my $error_page = $opt{json_404} ? "            error_page 404 = \@media_not_found;\n" : '';
    my $not_found = $opt{json_404} ? <<'CONF' : '';
        location @media_not_found {
            default_type application/json;
            return 404 '{"success":false,"error":{"message":"File not found","status":404,"code":"NOT_FOUND"}}';
        }
CONF
    return <<"CONF";
        location /play/ { video_api play; }
        location /_video_api/media/ {
            internal;
            alias $data/;
$error_page        }
$not_found${\ probe_location($endpoint)}
CONF
}

# presign, PUT, complete against the API on $port, as a browser does: the
# video id; dies on any step's failure
sub upload_video {
    my ($port, $file, $title, $type) = @_;
    $type //= 'video/mp4';
    my ($ext) = $type =~ m{/(\w+)$};
    my $size = -s $file;
    my ($s, $b) = http_request($port, 'POST', '/api/upload/presign',
        qq({"fileName": "clip.$ext", "fileSize": $size, "contentType": "$type"}));
    die "presign: $s $b" unless $s == 201;
    my ($url) = $b =~ /"uploadUrl":"([^"]+)"/;
    my ($key) = $b =~ /"key":"([^"]+)"/;
    my ($id) = $key =~ m{^([^/]+)/};
    ($s) = curl('-X', 'PUT', '-H', "Content-Type: $type", '-H', 'If-None-Match: *',
                '--upload-file', $file, $url);
    die "PUT: $s" unless $s =~ /^20[01]$/;
    ($s, $b) = http_request($port, 'POST', "/api/upload/$id/complete",
                            qq({"key": "$key", "title": "$title"}));
    die "complete: $s $b" unless $s == 201;
    return $id;
}

# one column of a video's row
sub video_column {
    my ($id, $col) = @_;
    return psql("SELECT $col FROM videos WHERE id = '$id'");
}

# polls until the video is READY or FAILED, for at most $seconds
sub wait_video_done {
    my ($id, $seconds) = @_;
    return wait_for($seconds, sub {
        video_column($id, 'status') =~ /^(READY|FAILED)$/;
    });
}

# what the worker of $role (worker_start) has logged so far
sub read_worker_log {
    my ($dir, $role) = @_;
    return do { local (@ARGV, $/) = ("$dir/logs/worker-$role.log"); <> } // '';
}

# The browser scripts (t/web/*.mjs, run by node): skips the suite unless
# /usr/bin/chromium is there, /usr/bin/firefox-esr too if 'firefox' is
# named, and the node modules named under node_modules.
sub need_browsers {
    my $why = browsers_missing(@_);
    Test::More::plan(skip_all => $why) if $why;
}

# why a browser suite needing these (Chromium always, 'firefox', node
# modules) cannot run here, or ''
sub browsers_missing {
    my (@need) = @_;
    return 'no /usr/bin/chromium (scripts/deps.sh installs it)'
        unless -x '/usr/bin/chromium';
    return 'no /usr/bin/firefox-esr (scripts/deps.sh installs it)'
        if grep({ $_ eq 'firefox' } @need) && !-x '/usr/bin/firefox-esr';
    return 'no node_modules (scripts/deps.sh runs npm ci)'
        if grep { $_ ne 'firefox' && !-d "$ENV{PWD}/node_modules/$_" } @need;
    return '';
}

# A suite's own nginx and local object store: its prefix
# t/servroot-<name>, nginx on the test port + $offset, the store on the
# next port serving <prefix>/store.  Returns ($dir, $port, $store,
# $endpoint, $data).
sub suite_places {
    my ($name, $offset) = @_;
    my $dir = "$ENV{PWD}/t/servroot-$name";
    my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + $offset;
    return ($dir, $port, $port + 1, 'http://127.0.0.1:' . ($port + 1), "$dir/store");
}

# the page's Content-Security-Policy as conf/nginx.conf ships it, with
# the store at $endpoint in place of the shipped one, and $api added
# where the page is served from another origin than the API's
sub page_csp {
    my ($endpoint, $api) = @_;
    open my $fh, '<', 'conf/nginx.conf' or die "conf/nginx.conf: $!";
    my ($policy) = join('', <$fh>) =~ /add_header\s+Content-Security-Policy\s+"([^"]+)"/
        or die 'conf/nginx.conf has no Content-Security-Policy';
    close $fh;
    $policy =~ s{http://127\.0\.0\.1:9000}{$endpoint}g if $endpoint;
    $policy =~ s{((?:connect|img|media)-src 'self')}{$1 $api}g if $api;
    return $policy;
}

# nginx.conf text for a server{}: the page as conf/nginx.conf serves it,
# www/ at / under the policy $csp, and with hls => a location, hls.js
# from node_modules there (mime.types has no .mjs, and browsers refuse
# an ES module sent as application/octet-stream)
sub page_locations {
    my ($csp, %opt) = @_;
    my $text = <<"CONF";
        location / {
            root $ENV{PWD}/www;
            index index.html;
            add_header Content-Security-Policy "$csp";
        }
CONF
    $text .= <<"CONF" if $opt{hls};
        location $opt{hls} {
            alias $ENV{PWD}/node_modules/hls.js/dist/;
            types {
                application/javascript js mjs;
                application/json map;
            }
        }
CONF
    return $text;
}

# node's pid while a browser script runs: stopped if the suite ends first
our $NODE;

END {
    kill 'TERM', $NODE if $NODE;
}

# Runs a browser script with the variables of env => {...} in its
# environment.  Each line it prints {"ok", "name", "diag", "todo"?}
# becomes an ok() (under TODO when it says todo), any other line a
# note.  The script keeps its own deadline; deadline => s only stops a
# hang.  Then asserts that it ran to its end and made least => n
# assertions or more, and says how many in how long (and where its
# screenshots are: artifacts => dir).  Returns the count.
sub browser_suite {
    my ($script, %opt) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $builder = Test::More->builder;
    my $json = JSON::PP->new;
    my $t0 = Time::HiRes::time();
    my $asserted = 0;
    my %env = %{$opt{env} // {}};
    local @ENV{keys %env} = values %env;
    # node's stderr (a crash's stack trace) goes straight to prove's
    $NODE = open(my $out, '-|', 'node', $script) or die "node: $!";
    local $SIG{ALRM} = sub { kill 'TERM', $NODE };
    alarm $opt{deadline};
    while (my $line = <$out>) {
        chomp $line;
        my $r = $line =~ /^\{/ ? eval { $json->decode($line) } : undef;
        if (ref $r eq 'HASH' && exists $r->{ok} && defined $r->{name}) {
            $builder->todo_start($r->{todo}) if $r->{todo};
            Test::More::ok($r->{ok}, $r->{name}) or Test::More::diag($r->{diag} // '');
            $builder->todo_end if $r->{todo};
            $asserted++;
        } else {
            Test::More::note($line);
        }
    }
    alarm 0;
    close $out;
    my $status = $?;
    undef $NODE;
    Test::More::is($status, 0, "$script ran to its end")
        or Test::More::diag('node exited with ' . ($status & 127 ? 'signal ' . ($status & 127)
                                                                : 'status ' . ($status >> 8)));
    Test::More::cmp_ok($asserted, '>=', $opt{least}, "$script made its assertions");
    Test::More::diag(sprintf '%s: %d assertions in %.1f s%s', $script, $asserted,
                     Time::HiRes::time() - $t0,
                     $opt{artifacts} ? " (screenshots in $opt{artifacts})" : '');
    return $asserted;
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
