# API keys and roles: keys made by the operators' command line (shown
# once, stored as their SHA-256, every change audited), resolved by the
# module once per request: a malformed key refused without any lookup, a
# revoked or expired one refused by both nginx workers within a second
# (Redis down or not), a cached key reading but not writing while
# PostgreSQL is down, each role held to its routes, the caller in
# $video_api_account for limit_req and log_format, and no key in any log.
#
# sanitizers: yes (scripts/test.sh runs it again against the sanitized nginx)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;

# this suite says who calls, each time
$VideoApi::KEY = q{};
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use Time::HiRes ();
use File::Temp ();
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-auth";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 45;
my $open = $port + 1;       # video_api_auth off
my $limited = $port + 2;    # limit_req on $video_api_account
my $auth = $port + 3;       # auth on, both workers accepting (reuseport)
my $json = JSON::PP->new;

my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
my %env = (VIDEO_WORKER_CONF => "$ENV{PWD}/conf/worker.conf",
           VIDEO_WORKER_POSTGRES => $ENV{TEST_NGINX_PG_CONNINFO},
           VIDEO_WORKER_REDIS => "127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT}");

END { nginx_stop($dir) if $dir; }

# video-worker keys|accounts ...: (exit code, stdout, stderr)
sub cli {
    my (@args) = @_;
    local @ENV{keys %env} = values %env;
    my $err = File::Temp->new;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', $err->filename or die;
        exec $bin, @args or POSIX::_exit(127);
    }
    local $/;
    my $stdout = <$out> // '';
    close $out;
    my $code = $? >> 8;
    my $stderr = do { local (@ARGV, $/) = ($err->filename); <> } // '';
    return ($code, $stdout, $stderr);
}

# one request: (status, decoded body or undef, headers)
sub call {
    my ($p, $method, $path, $key, $body, @more) = @_;
    my @args = ('-X', $method, "http://127.0.0.1:$p$path");
    push @args, '-H', "Authorization: Bearer $key" if defined $key;
    push @args, '-H', 'Content-Type: application/json', '--data-binary', $body
        if defined $body;
    my ($status, $b, $h) = curl(@args, @more);
    my $doc = eval { $json->decode($b) };
    return ($status, $doc, $h);
}

sub title_of {
    my ($id) = @_;
    return psql("SELECT title FROM videos WHERE id = '$id'");
}

psql('TRUNCATE videos, uploads, audit_log CASCADE');
psql("DELETE FROM api_keys");
psql('TRUNCATE webhook_endpoints CASCADE');
psql("DELETE FROM accounts WHERE id <> 'default'");

# -- the command line ----------------------------------------------------------

my ($rc, $out, $err) = cli(qw(accounts create --name), 'Account B', qw(--id acctB));
is $rc, 0, 'an account is created' or diag $err;
is $out, "acctB\n", '... and its id printed';

my %key;
for my $k (['admin', 'default', 'admin'], ['editor', 'default', 'editor'],
           ['viewer', 'default', 'viewer'], ['editorB', 'acctB', 'editor'],
           ['revokeme', 'default', 'admin'], ['revokeme2', 'default', 'viewer'],
           ['stale', 'default', 'editor'])
{
    my ($name, $account, $role) = @$k;
    ($rc, $out, $err) = cli(qw(keys create --account), $account, '--role', $role,
                            '--name', $name);
    is $rc, 0, "a key ($role) of $account is made" or diag $err;
    chomp $out;
    $key{$name} = $out;
}

like $key{admin}, qr/\Avapi_[0-9A-Za-z]{49}\z/, 'a key is "vapi_" and 49 base62 characters';
isnt $key{admin}, $key{editor}, 'keys differ';

my $hashes = psql("SELECT encode(key_hash, 'hex') FROM api_keys ORDER BY name");
is_deeply [sort split /\n/, $hashes], [sort map { sha256_hex($_) } values %key],
    'keys are stored as their SHA-256';
my $dump = psql("SELECT row_to_json(k)::text FROM api_keys k");
for my $name (sort keys %key) {
    unlike $dump, qr/\Q$key{$name}\E/, "the key '$name' itself is stored nowhere";
}

($rc, $out, $err) = cli(qw(keys list));
is $rc, 0, 'keys are listed';
like $out, qr/^id\taccount\trole\tname\thint/, '... with a header';
like $out, qr/\Q${\ substr($key{admin}, 0, 9)}\E/, '... and each key\'s hint';
unlike $out, qr/\Q$key{admin}\E/, '... never the key';

($rc, undef, $err) = cli(qw(keys create --account default --role owner));
is $rc, 2, 'an unknown role is refused';
($rc, undef, $err) = cli(qw(keys create --account nobody --role viewer));
is $rc, 1, 'a key for an unknown account is refused';
like $err, qr/account "nobody" not found/, '... saying so';
is psql("SELECT count(*) FROM api_keys"), scalar(keys %key), '... and makes nothing';

my $audit = psql("SELECT actor || ' ' || action || ' ' || source || ' ' || coalesce(account_id, '-') FROM audit_log ORDER BY id LIMIT 2");
like $audit, qr/\Acli:\S+ account\.create cli acctB\ncli:\S+ key\.create cli default\z/,
    'the audit log has who, what and where';

# -- nginx: two workers, auth on; a server with auth off; one rate-limited ----

seed_video(id => 'authAAAAAAAAAAAAAAAAA', title => 'A public one', visibility => 'PUBLIC',
           status => 'READY');
seed_video(id => 'authBBBBBBBBBBBBBBBBB', title => 'Untouched', visibility => 'PUBLIC',
           status => 'READY');

my $pg = "video_api_postgres \"$ENV{TEST_NGINX_PG_CONNINFO}\" pool=4 timeout=2s;\n"
       . "    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};";

nginx_start($dir, $port, <<"HTTP", '', workers => 2, http_first => <<"FIRST");
    $pg
    limit_req_zone \$video_api_account zone=per_account:1m rate=1r/m;

    server {
        listen 127.0.0.1:$auth reuseport;
        access_log logs/access.log caller;
        location /api/ {
            video_api all;
            video_api_auth on;
            add_header X-Worker \$pid always;
        }
        location = /health { video_api health; }
    }

    server {
        listen 127.0.0.1:$open;
        access_log logs/open.log caller;
        location /api/ { video_api all; video_api_auth off; }
    }

    server {
        listen 127.0.0.1:$limited;
        access_log logs/limited.log caller;
        location /api/ {
            video_api all;
            video_api_auth on;
            limit_req zone=per_account;
            limit_req_status 429;
        }
    }
HTTP
    log_format caller '\$remote_addr "\$request" \$status account=\$video_api_account '
                      'key=\$video_api_key_id role=\$video_api_role auth=\$auth_sent';
    map \$http_authorization \$auth_sent { default "redacted"; "" "none"; }
FIRST

sub api { my ($m, $path, @rest) = @_; return call($auth, $m, $path, @rest) }

my ($s, $d, $h);

($s, $d) = api('GET', '/api/videos');
is $s, 200, 'anonymous callers list';

for my $w (['PATCH', '/api/videos/authBBBBBBBBBBBBBBBBB', '{"title":"Mine now"}'],
           ['DELETE', '/api/videos/authBBBBBBBBBBBBBBBBB', undef],
           ['POST', '/api/upload/presign', '{"fileName":"a.mp4","fileSize":10,"contentType":"video/mp4"}'],
           ['POST', '/api/live/create', '{"title":"Stream"}'],
           ['POST', '/api/analytics/reset/daily', undef])
{
    my ($m, $path, $body) = @$w;
    ($s, $d, $h) = api($m, $path, undef, $body);
    is $s, 401, "anonymous $m $path is 401";
    is $d->{error}{code}, 'UNAUTHORIZED', '... UNAUTHORIZED';
    like $h, qr/^WWW-Authenticate: Bearer/mi, '... with a Bearer challenge';
}
is title_of('authBBBBBBBBBBBBBBBBB'), 'Untouched', 'nothing changed';
is psql("SELECT count(*) FROM videos"), 2, '... nothing was made';

my $bad = $key{admin};
substr($bad, 20, 1) = substr($bad, 20, 1) eq 'a' ? 'b' : 'a';
for my $k (["a mistyped key", $bad], ['a key of another shape', 'sk_live_12345'],
           ['a well-formed key nobody made',
            'vapi_00000000000000000000000000000000000000000004XrIEG'])
{
    ($s, $d, $h) = api('GET', '/api/videos', $k->[1]);
    is $s, 401, "$k->[0] is 401, even to read";
    like $h, qr/^WWW-Authenticate: Bearer/mi, '... with a Bearer challenge';
}
($s, $d) = call($auth, 'GET', '/api/videos', undef, undef, '-H', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x');
is $s, 401, 'a Bearer token of another kind is 401';
($s, $d) = call($auth, 'GET', '/api/videos', undef, undef, '-H', 'Authorization: Basic dXNlcjpwYXNz');
is $s, 200, 'another scheme is no key (nginx\'s auth_basic may wrap the API): anonymous';
($s, $d) = call($auth, 'DELETE', '/api/videos/authBBBBBBBBBBBBBBBBB', undef, undef, '-H', 'Authorization: Basic dXNlcjpwYXNz');
is $s, 401, '... who may not write';

($s, $d) = api('PATCH', '/api/videos/authBBBBBBBBBBBBBBBBB', $key{viewer}, '{"title":"Viewer"}');
is $s, 403, 'a viewer may not edit';
is $d->{error}{code}, 'FORBIDDEN', '... FORBIDDEN';
like $d->{error}{message}, qr/viewer/, '... naming the role';
($s, $d) = api('GET', '/api/videos/authBBBBBBBBBBBBBBBBB', $key{viewer});
is $s, 200, '... but reads';
is title_of('authBBBBBBBBBBBBBBBBB'), 'Untouched', '... and nothing changed';

($s, $d) = api('PATCH', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{editor}, '{"title":"Edited"}');
is $s, 200, 'an editor edits';
is title_of('authAAAAAAAAAAAAAAAAA'), 'Edited', '... for real';
($s, $d) = api('POST', '/api/analytics/reset/daily', $key{editor});
is $s, 403, 'an editor may not reset the counters';
($s, $d) = api('POST', '/api/analytics/reset/daily', $key{admin});
is $s, 200, 'an admin may';

# -- when a key was last used: noted, at most once a minute ----------------------

my $used = psql("SELECT last_used_at FROM api_keys WHERE name = 'admin'");
isnt $used, '', 'a key that was used notes when';
Time::HiRes::sleep(1.1);
api('GET', '/api/videos', $key{admin});
is psql("SELECT last_used_at FROM api_keys WHERE name = 'admin'"), $used,
    '... and not again within the minute (the lookup is made again each second)';
is psql("SELECT count(*) FROM api_keys WHERE name = 'revokeme2' AND last_used_at IS NOT NULL"), 0,
    'a key never used notes nothing';

# -- revocation within a second, on both workers -------------------------------

sub revoked_everywhere {
    my ($key, $label) = @_;
    my %seen;
    # warm the cache of the node
    ($s) = api('GET', '/api/videos', $key);
    is $s, 200, "$label: the key works";
    my $id = psql("SELECT id FROM api_keys WHERE key_hash = decode('" . sha256_hex($key) . "', 'hex')");
    ($rc, undef, $err) = cli('keys', 'revoke', $id);
    is $rc, 0, "$label: revoked" or diag $err;
    my $t0 = Time::HiRes::time();
    Time::HiRes::sleep(1.05);
    my @late;
    for (1 .. 24) {
        my ($st, undef, $hd) = api('GET', '/api/videos', $key);
        my ($pid) = $hd =~ /^X-Worker: (\d+)/mi;
        $seen{$pid // '?'}++;
        push @late, $st if $st != 401;
    }
    is "@late", '', "$label: refused by every request a second after";
    is scalar(grep { $_ ne '?' } keys %seen), 2, "$label: ... answered by both workers";
    ($rc, undef, $err) = cli('keys', 'revoke', $id);
    is $rc, 1, "$label: revoking again says so";
}

revoked_everywhere($key{revokeme}, 'an admin key');

# -- expiry ------------------------------------------------------------------

($rc, $out, $err) = cli(qw(keys create --account default --role viewer --expires-in 2));
is $rc, 0, 'a key expiring in 2 s' or diag $err;
chomp(my $brief = $out);
($s) = api('GET', '/api/videos', $brief);
is $s, 200, '... works at first';
ok wait_for(4, sub { (api('GET', '/api/videos', $brief))[0] == 401 }),
    '... and is refused once expired';
($s) = api('GET', '/api/videos', $brief);
is $s, 401, '... for good';

# -- PostgreSQL down: a cached key reads, writes nothing -------------------------

($s) = api('GET', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{stale});
is $s, 200, 'a key read while PostgreSQL is up';
stack(qw(stop pg));
($s, $d) = api('GET', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{stale});
is $s, 200, 'with PostgreSQL down, the cached key still reads (the video from Redis)';
($s, $d) = api('PATCH', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{stale}, '{"title":"x"}');
is $s, 503, '... but writes nothing';
is $d->{error}{code}, 'UNAVAILABLE', '... UNAVAILABLE';
($s, $d) = api('GET', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{viewer} =~ s/.{6}\z/000000/r);
is $s, 401, 'a malformed key is still 401: no lookup needed';
($s, $d) = api('GET', '/api/videos/authAAAAAAAAAAAAAAAAA',
               'vapi_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ1pnVBZ');
is $s, 503, 'a well-formed key never seen cannot be checked: 503';
stack(qw(start pg));
ok wait_for(10, sub { (api('PATCH', '/api/videos/authAAAAAAAAAAAAAAAAA', $key{stale},
                           '{"title":"Back"}'))[0] == 200 }),
    'writes resume when PostgreSQL is back';
ok wait_for(20, sub { !grep { (call($auth, 'GET', '/health'))[0] != 200 } 1 .. 12 }),
    '... on both workers';

# -- video_api_auth off: the open contract -------------------------------------

($s, $d) = call($open, 'PATCH', '/api/videos/authBBBBBBBBBBBBBBBBB', undef, '{"title":"Open"}');
is $s, 200, 'with auth off, an anonymous caller edits';
($s, $d) = call($open, 'PATCH', '/api/videos/authBBBBBBBBBBBBBBBBB', $key{viewer}, '{"title":"V"}');
is $s, 403, '... a caller with a key is that key';
($s, $d) = call($open, 'GET', '/api/videos', $bad);
is $s, 401, '... and a bad key is refused';
($s, $d) = call($open, 'PATCH', '/api/videos/authBBBBBBBBBBBBBBBBB', undef, '{"title":"Gate"}',
                '-H', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x');
is $s, 200, '... while a gate\'s own Bearer token, passed along, is not a key';
is title_of('authBBBBBBBBBBBBBBBBB'), 'Gate', 'only the open edits happened';

# -- the caller for limit_req ------------------------------------------------------

($s) = call($limited, 'GET', '/api/videos', $key{editor});
is $s, 200, 'limit_req on $video_api_account: the first request passes';
($s, $d) = call($limited, 'GET', '/api/videos', $key{editor});
is $s, 429, '... the second of that account is limited';
is $d->{error}{code}, 'TOO_MANY_REQUESTS', '... with the envelope';
($s) = call($limited, 'GET', '/api/videos', $key{editorB});
is $s, 200, '... another account is not';
($s) = call($limited, 'GET', '/api/videos');
is $s, 200, '... nor are anonymous callers (no account, no limit)';

# -- make run's admin key -------------------------------------------------------

my $keyfile = "$dir/admin.key";
unlink $keyfile;
local $ENV{VIDEO_API_ADMIN_KEY} = $keyfile;
my $made = qx{scripts/stack.sh admin-key 2>&1};
is $? >> 8, 0, 'make run makes an admin key' or diag $made;
is sprintf('%04o', (stat $keyfile)[2] & 07777), '0600', '... kept 0600';
chomp(my $runkey = do { local (@ARGV, $/) = ($keyfile); <> } // '');
unlike $made, qr/\Q$runkey\E/, '... without printing it there';
($s) = api('POST', '/api/analytics/reset/monthly', $runkey);
is $s, 200, '... an admin key';
qx{scripts/stack.sh admin-key 2>&1};
is do { local (@ARGV, $/) = ($keyfile); <> }, "$runkey\n", '... kept while it works';
($rc) = cli('keys', 'revoke', psql("SELECT id FROM api_keys WHERE name = 'make run'"));
qx{scripts/stack.sh admin-key 2>&1};
chomp(my $again = do { local (@ARGV, $/) = ($keyfile); <> } // '');
isnt $again, $runkey, '... and made anew once revoked';
like $again, qr/\Avapi_/, '... a key';

# -- a disabled account --------------------------------------------------------

seed_video(id => 'authCCCCCCCCCCCCCCCCC', title => 'B private', visibility => 'PRIVATE',
           status => 'READY', account_id => 'acctB');
($s) = api('GET', '/api/videos/authCCCCCCCCCCCCCCCCC', $key{editorB});
is $s, 200, 'an account\'s key reads its private video (and the cache keeps it)';
my $gen = psql("SELECT token_gen FROM videos WHERE id = 'authCCCCCCCCCCCCCCCCC'");
($rc, undef, $err) = cli(qw(accounts disable acctB));
is $rc, 0, 'an account is disabled' or diag $err;
is psql("SELECT token_gen FROM videos WHERE id = 'authCCCCCCCCCCCCCCCCC'"), $gen + 1,
    '... its videos\' play tokens die (their generation moved on)';
is qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} EXISTS video:authCCCCCCCCCCCCCCCCC}, "0\n",
    '... with their cached copies';
Time::HiRes::sleep(1.05);
my @still = grep { $_ != 401 } map { (api('GET', '/api/videos', $key{editorB}))[0] } 1 .. 8;
is "@still", '', '... and its keys are refused a second later';
($rc, undef, $err) = cli(qw(accounts disable acctB));
is $rc, 1, 'disabling it again says so';
like psql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE account_id = 'acctB'"),
    qr/account\.disable/, '... and the audit log has it';

# -- revocation does not depend on Redis ------------------------------------------

stack(qw(stop redis));
revoked_everywhere($key{revokeme2}, 'with Redis down, a viewer key');
stack(qw(start redis));

# -- what the logs hold -------------------------------------------------------

my $editor_id = psql("SELECT id FROM api_keys WHERE name = 'editor'");
my $log = do { local (@ARGV, $/) = ("$dir/logs/access.log"); <> } // '';
like $log, qr/account=default key=\Q$editor_id\E role=editor auth=redacted/,
    'the access log names the account, key id and role';
like $log, qr/"PATCH \/api\/videos\/authBBBBBBBBBBBBBBBBB HTTP\/1.1" 401 account=- key=- role=-/,
    '... and "-" for an anonymous caller';

unlike $log, qr/"\{/, 'no request body was taken for a request';

my $all = '';
for my $f (glob("$dir/logs/*")) {
    $all .= do { local (@ARGV, $/) = ($f); <> } // '';
}
unlike $all, qr/vapi_[0-9A-Za-z]{20}/, 'no key in any log';
unlike $all, qr/Bearer/, '... nor any Authorization header';

done_testing;
