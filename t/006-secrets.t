# No working secret is checked in: conf/nginx.conf and conf/worker.conf
# hold placeholders, scripts/stack.sh (make run) makes each installation's
# secrets once (0600, under the run directory) and renders them into
# copies only their owner reads, and nginx refuses a placeholder or a
# published sample secret on an address others can reach.

use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $root = $ENV{PWD};
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
-x $nginx && -f "$root/build/ngx_http_video_api_module.so"
    or plan skip_all => 'nginx or the module is missing (run it through make test)';

sub slurp { my ($f) = @_; local (@ARGV, $/) = ($f); return <> // '' }
sub mode { my ($f) = @_; return sprintf '%04o', (stat $f)[2] & 07777 }

# -- what is checked in --------------------------------------------------------

for my $f ('conf/nginx.conf', 'conf/worker.conf', 'docker-compose.dev.yml') {
    unlike slurp($f), qr/secret_key\s*[=:]\s*videoapi-secret|secret_key=(?!@)[^\s;@]{8,}/,
        "$f holds no storage secret";
}
like slurp('conf/nginx.conf'), qr/secret_key=\@STORAGE_SECRET_KEY\@/, 'nginx.conf: a placeholder';
like slurp('conf/nginx.conf'), qr/video_api_playback\s+secret=\@PLAYBACK_SECRET\@/,
    'and one for play tokens';
like slurp('conf/worker.conf'), qr/^storage_secret_key = \@STORAGE_SECRET_KEY\@$/m,
    'worker.conf: a placeholder';

# every access log of the shipped configuration redacts tokens and
# signatures ($video_api_request), none writes the raw request
my $shipped = slurp('conf/nginx.conf');
my @logs = $shipped =~ /^\s*access_log\s+([^;]+);/mg;
ok @logs >= 1, 'conf/nginx.conf logs access';
for my $l (@logs) {
    like $l, qr/\s+video_api(?:_json)?$/, "access_log $l uses a redacting format";
}
my ($format) = $shipped =~ /log_format\s+video_api\s+(.*?);/s;
like $format // '', qr/\$video_api_request/, 'whose request is $video_api_request';
unlike $format // '', qr/\$(request|request_uri|args|query_string|arg_)\b/, 'and nothing raw';
my ($json) = $shipped =~ /log_format\s+video_api_json\s+(.*?);/s;
like $json // '', qr/\A\s*escape=json\s/, 'the JSON format escapes as JSON';
like $json // '', qr/\$video_api_path\b/, 'its path is $video_api_path';
unlike $json // '', qr/\$(request|request_uri|uri|args|query_string|arg_\w+|http_authorization|http_cookie|cookie_\w+|http_referer)\b/,
    'and nothing raw, no Authorization, cookie or referer';

# the workers that sign storage requests refuse the placeholders
for my $role (qw(transcode cleanup)) {
    local $ENV{VIDEO_WORKER_CONF} = 'conf/worker.conf';
    local $ENV{VIDEO_WORKER_STORAGE_SECRET_KEY};
    local $ENV{VIDEO_WORKER_STORAGE_ACCESS_KEY};
    delete @ENV{qw(VIDEO_WORKER_STORAGE_SECRET_KEY VIDEO_WORKER_STORAGE_ACCESS_KEY)};
    my $out = qx{build/video-worker $role 2>&1};
    is $? >> 8, 1, "video-worker $role with conf/worker.conf as it is stops";
    like $out, qr/storage_access_key and storage_secret_key are not set/, 'saying why';
}

# -- make run's copies ---------------------------------------------------------

my $tmp = tempdir(CLEANUP => 1);

sub conf_check {
    my ($run, %env) = @_;
    local $ENV{VIDEO_API_RUN_DIR} = $run;
    local @ENV{keys %env} = values %env;
    my $out = qx{scripts/stack.sh conf-check 2>&1};
    return ($? >> 8, $out);
}

my ($rc, $out) = conf_check("$tmp/a");
is $rc, 0, 'conf-check renders and passes nginx -t' or diag $out;
like $out, qr/secrets: generated/, 'making the secrets the first time';
my $secrets = slurp("$tmp/a/secrets.env");
is mode("$tmp/a/secrets.env"), '0600', 'kept 0600';
my %s = $secrets =~ /^([A-Z_]+)=(\S+)$/mg;
like $s{STORAGE_ACCESS_KEY}, qr/^[A-Z0-9]{20}$/, 'an access key';
like $s{STORAGE_SECRET_KEY}, qr/^[A-Za-z0-9_-]{40}$/, 'a 240-bit storage secret';
like $s{PLAYBACK_SECRET}, qr/^[A-Za-z0-9_-]{43}$/, 'a 256-bit playback secret';

my $nconf = slurp("$tmp/a/nginx/nginx.conf");
is mode("$tmp/a/nginx/nginx.conf"), '0600', 'the rendered nginx.conf is 0600';
like $nconf, qr/access_key=$s{STORAGE_ACCESS_KEY}\s/, 'and carries the access key';
like $nconf, qr/secret_key=\Q$s{STORAGE_SECRET_KEY}\E\s/, 'the storage secret';
like $nconf, qr/video_api_playback\s+secret=\Q$s{PLAYBACK_SECRET}\E /, 'and the playback secret';
unlike $nconf, qr/\@[A-Z_]+\@/, 'no placeholder is left';
my $wconf = slurp("$tmp/a/workers/worker.conf");
is mode("$tmp/a/workers/worker.conf"), '0600', 'the rendered worker.conf is 0600';
like $wconf, qr/^storage_secret_key = \Q$s{STORAGE_SECRET_KEY}\E$/m, 'with the same storage secret';
like $wconf, qr/^storage_access_key = $s{STORAGE_ACCESS_KEY}$/m, 'and access key';

($rc, $out) = conf_check("$tmp/a");
is $rc, 0, 'a second conf-check';
unlike $out, qr/generated/, 'makes nothing new';
is slurp("$tmp/a/secrets.env"), $secrets, 'the secrets stay';

($rc, $out) = conf_check("$tmp/b");
my %t = slurp("$tmp/b/secrets.env") =~ /^([A-Z_]+)=(\S+)$/mg;
ok $t{STORAGE_SECRET_KEY} ne $s{STORAGE_SECRET_KEY} && $t{PLAYBACK_SECRET} ne $s{PLAYBACK_SECRET},
    'another installation has other secrets';

($rc, $out) = conf_check("$tmp/a", VIDEO_API_LISTEN => '0.0.0.0');
is $rc, 0, 'with its own secrets nginx may listen on every address' or diag $out;

open my $fh, '>>', "$tmp/b/secrets.env" or die $!;
print $fh "STORAGE_SECRET_KEY=short\n";
close $fh;
($rc, $out) = conf_check("$tmp/b");
isnt $rc, 0, 'a damaged secrets file stops the stack';
like $out, qr/secrets\.env is damaged/, 'saying which';

# -- the shipped file as it is ---------------------------------------------------

my $raw = slurp('conf/nginx.conf');
$raw =~ s{(^|[^[:alnum:]_./-])\.run/}{$1$tmp/raw/}g;
mkdir "$tmp/raw";
mkdir "$tmp/raw/$_" for qw(logs nginx nginx/tmp store);
for my $listen ('127.0.0.1', '0.0.0.0') {
    (my $conf = $raw) =~ s/^(\s*listen\s+)127\.0\.0\.1:/$1$listen:/mg;
    open my $c, '>', "$tmp/raw/nginx.conf" or die $!;
    print $c $conf;
    close $c;
    my $t = qx{$nginx -t -p $root/ -c $tmp/raw/nginx.conf 2>&1};
    if ($listen eq '127.0.0.1') {
        is $? >> 8, 0, 'conf/nginx.conf as it is starts on loopback' or diag $t;
    } else {
        isnt $? >> 8, 0, 'but not on every address';
        like $t, qr/"secret_key" of "video_api_storage" is the published sample value "\@STORAGE_SECRET_KEY\@" and a server listens on 0\.0\.0\.0:8080/,
            'naming the directive, the value and the address';
    }
}

done_testing;
