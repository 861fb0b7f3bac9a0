# Idempotency-Key on the POSTs that create (upload presign, live create,
# API key create, account create): the same key and request replay the
# first answer byte for byte (Idempotent-Replayed: true) and create
# nothing more; the same key with another request is a 409; keys are the
# caller's (its API key; the account where auth is off) and the route's;
# concurrent retries create one thing; a malformed key is a 400; only
# answers that created are kept, sealed; an expired key is new again and
# the cleanup worker deletes it.
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
use POSIX ();
use File::Temp ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-idem";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 36;
my $auth = $port + 1;
my $open = $port + 2;
my $json = JSON::PP->new;
my @workers;

END {
    kill 'TERM', @workers if @workers;
    nginx_stop($dir) if $dir;
}

my %key = access_reset(accounts => [['acctB'], ['acctQ', qw(--max-videos 1)]],
                       keys => [['admin', 'default', 'admin'], ['editorA', 'default', 'editor'],
                                ['editorA2', 'default', 'editor'], ['editorB', 'acctB', 'editor'],
                                ['editorQ', 'acctQ', 'editor']]);
psql('DELETE FROM idempotency_keys');

nginx_start($dir, $port, <<"HTTP", '');
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=2s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=idem-suite-secret;
    server {
        listen 127.0.0.1:$auth;
        location /api/ { video_api all; video_api_auth on; }
    }
    server {
        listen 127.0.0.1:$open;
        location /api/ { video_api all; video_api_auth off; }
    }
HTTP

# ($status, $body, $data, $headers) of a call by $who (a key's name, or
# 'anon') with Idempotency-Key $idem (undef: none)
sub call {
    my ($who, $path, $body, $idem, $p) = @_;
    my @args = ('-X', 'POST', "http://127.0.0.1:" . ($p // $auth) . $path,
                '-H', 'Content-Type: application/json', '--data-binary', $body);
    push @args, '-H', "Authorization: Bearer $key{$who}" if $who ne 'anon';
    # curl sends an empty header written "Name;"
    push @args, '-H', $idem eq '' ? 'Idempotency-Key;' : "Idempotency-Key: $idem"
        if defined $idem;
    my ($s, $b, $h) = curl(@args);
    return ($s, $b, eval { $json->decode($b) }, $h);
}

sub presign { qq({"fileName":"$_[0]","fileSize":1000,"contentType":"video/mp4"}) }
sub uploads { psql("SELECT count(*) FROM uploads WHERE account_id = '$_[0]'") }
sub rows { psql('SELECT count(*) FROM idempotency_keys') }
sub replayed { ($_[0] // '') =~ /^Idempotent-Replayed: true\r?$/mi ? 1 : 0 }

my ($s, $b, $d, $h);

# -- the same key and request: one upload, the same answer ----------------------

my $n = uploads('default');
my ($s1, $b1, $d1, $h1) = call('editorA', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $s1, 201, 'presign with an Idempotency-Key: 201';
ok !replayed($h1), '... not a replay';
is uploads('default'), $n + 1, '... one upload recorded';
my ($s2, $b2, $d2, $h2) = call('editorA', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $s2, 201, 'the retry: the same status';
is $b2, $b1, '... the same body, byte for byte';
ok replayed($h2), '... marked Idempotent-Replayed: true';
like $h2, qr{^Content-Type: application/json\r?$}mi, '... as JSON';
is uploads('default'), $n + 1, '... and no second upload';
is rows(), 1, 'one key row';

# -- the same key, another request: 409 ----------------------------------------

($s, $b, $d, $h) = call('editorA', '/api/upload/presign', presign('b.mp4'), 'order-1');
is $s, 409, 'the same key with another body: 409';
is $d->{error}{code}, 'CONFLICT', '... CONFLICT';
is $d->{error}{message}, 'This Idempotency-Key was used with another request; use a new key for a new request',
    '... saying so';
ok !replayed($h), '... no replay';
is uploads('default'), $n + 1, '... nothing recorded';

# -- whose key: the caller's API key and the route ---------------------------------

($s, $b, $d, $h) = call('editorA2', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $s, 201, 'another API key of the same account, the same Idempotency-Key: 201';
ok !replayed($h), '... its own answer, not a replay';
isnt $d->{data}{videoId}, $d1->{data}{videoId}, '... a new upload';
is uploads('default'), $n + 2, '... recorded';

my $nb = uploads('acctB');
($s, $b, $d, $h) = call('editorB', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $s, 201, 'another account, the same Idempotency-Key: 201';
ok !replayed($h), '... not the other account\'s answer';
isnt $d->{data}{videoId}, $d1->{data}{videoId}, '... a new upload';
is uploads('acctB'), $nb + 1, '... in its own account';
is psql("SELECT account_id FROM uploads WHERE video_id = '$d->{data}{videoId}'"), 'acctB',
   '... which owns it';
my ($s3, $b3) = call('editorB', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $b3, $b, '... and its retry replays its own answer';

my $nlive = psql("SELECT count(*) FROM videos WHERE video_type = 'LIVE'");
my ($sl, $bl, $dl, $hl) = call('editorA', '/api/live/create', '{"title":"Idem"}', 'order-1');
is $sl, 201, 'the same Idempotency-Key on live create: a route of its own, 201';
ok !replayed($hl), '... not a replay';
like $dl->{data}{streamKey}, qr/\S/, '... with its stream key';
($s, $b, $d, $h) = call('editorA', '/api/live/create', '{"title":"Idem"}', 'order-1');
is "$s $b", "$sl $bl", 'live create retried: the same answer';
ok replayed($h), '... replayed';
is psql("SELECT count(*) FROM videos WHERE video_type = 'LIVE'"), $nlive + 1, '... one stream';
($s, $b, $d) = call('editorA', '/api/live/create', '{"title":"Other"}', 'order-1');
is $s, 409, '... and another title under its key: 409';

# -- API keys and accounts ----------------------------------------------------------

my $nkeys = psql('SELECT count(*) FROM api_keys');
my ($sk, $bk, $dk, $hk) = call('editorA', '/api/keys', '{"role":"viewer","name":"idem"}', 'key-1');
is $sk, 201, 'key create with an Idempotency-Key: 201';
($s, $b, $d, $h) = call('editorA', '/api/keys', '{"role":"viewer","name":"idem"}', 'key-1');
is "$s $b", "$sk $bk", '... retried: the same key, shown again';
ok replayed($h), '... replayed';
is psql('SELECT count(*) FROM api_keys'), $nkeys + 1, '... one key made';
$key{made} = $dk->{data}{key};
($s) = curl("http://127.0.0.1:$auth/api/me", '-H', "Authorization: Bearer $key{made}");
is $s, 200, '... and it works';
($s) = call('editorA', '/api/keys', '{"role":"editor","name":"idem"}', 'key-1');
is $s, 409, '... another role under its key: 409';

my ($sa, $ba) = call('admin', '/api/accounts', '{"name":"Idem Co"}', 'acct-1');
is $sa, 201, 'account create with an Idempotency-Key: 201';
($s, $b, $d, $h) = call('admin', '/api/accounts', '{"name":"Idem Co"}', 'acct-1');
is "$s $b", "$sa $ba", '... retried: the same account';
is psql("SELECT count(*) FROM accounts WHERE name = 'Idem Co'"), 1, '... made once';

# -- what is kept: sealed, the key itself not at all ---------------------------------

is psql("SELECT count(*) FROM idempotency_keys WHERE status = 0 OR answer IS NULL"), 0,
   'every kept row has its answer';
my $plain = join ' OR ', map { "position(convert_to('$_', 'UTF8') in answer) > 0" }
                         ($dk->{data}{key}, $dl->{data}{streamKey}, 'videoId', 'order-1');
is psql("SELECT count(*) FROM idempotency_keys WHERE $plain"), 0,
   'the kept answers are sealed: no key, stream key or field name in clear';
is psql("SELECT count(*) FROM idempotency_keys WHERE key_hash = sha256(convert_to('order-1', 'UTF8'))"),
   4, 'the Idempotency-Key is kept as its SHA-256 (editorA presign, editorA2, editorB, live)';
is psql("SELECT string_agg(DISTINCT scope, ',' ORDER BY scope) FROM idempotency_keys"
        . " WHERE key_hash = sha256(convert_to('order-1', 'UTF8'))"),
   join(',', sort map { 'key:' . psql("SELECT id FROM api_keys WHERE name = '$_'") } qw(editorA editorA2 editorB)),
   'scoped by each caller\'s API key id';
psql("UPDATE idempotency_keys SET answer = set_byte(answer, 20, get_byte(answer, 20) # 1)"
     . " WHERE route = 'POST /api/keys'");
($s, $b, $d, $h) = call('editorA', '/api/keys', '{"role":"viewer","name":"idem"}', 'key-1');
is $s, 409, 'a kept answer altered in the table does not open: 409';
ok !replayed($h), '... nothing replayed';
is psql('SELECT count(*) FROM api_keys'), $nkeys + 1, '... nothing made';

# -- malformed keys: 400, nothing made --------------------------------------------

$n = uploads('default');
for my $bad (['', 'empty'], ['k' x 256, '256 characters'], ["caf\xc3\xa9", 'not ASCII'],
             ["a\x01b", 'a control character']) {
    ($s, $b, $d) = call('editorA', '/api/upload/presign', presign('m.mp4'), $bad->[0]);
    is $s, 400, "an Idempotency-Key of $bad->[1]: 400";
    is $d->{error}{code}, 'VALIDATION_ERROR', '... VALIDATION_ERROR';
    is $d->{error}{details}[0]{path}, 'Idempotency-Key', '... naming the header';
}
is $d->{error}{message}, 'Idempotency-Key must be 1 to 255 printable ASCII characters',
   'the message says what a key may be';
is uploads('default'), $n, 'nothing recorded';
($s) = call('editorA', '/api/upload/presign', presign('m.mp4'), 'k' x 255);
is $s, 201, '255 printable characters: a key';
($s) = call('editorA', '/api/upload/presign', presign('m.mp4'), ' !~{}');
is $s, 201, 'spaces and punctuation inside: a key';
($s, $b, $d) = call('editorA', '/api/live/create', '{"title":"x"}', 'k' x 256);
is $s, 400, 'live create checks it too';
($s) = call('editorA', '/api/keys', '{"role":"viewer"}', 'k' x 256);
is $s, 400, '... and key create';
($s) = call('admin', '/api/accounts', '{"name":"x"}', 'k' x 256);
is $s, 400, '... and account create';

# -- what is not kept: validation failures and refusals ---------------------------

my $r = rows();
($s) = call('editorA', '/api/upload/presign', '{"fileName":"x.mp4"}', 'bad-body');
is $s, 400, 'a bad body under a key: 400';
is rows(), $r, '... not kept';
($s, $b, $d, $h) = call('editorA', '/api/upload/presign', presign('x.mp4'), 'bad-body');
is $s, 201, '... so the corrected request under that key runs';
ok !replayed($h), '... afresh';

($s) = call('editorQ', '/api/upload/presign', presign('q1.mp4'), 'q-1');
is $s, 201, 'an account with room for one video: the first upload';
($s, $b, $d) = call('editorQ', '/api/upload/presign', presign('q2.mp4'), 'q-2');
is $s, 403, 'the second, under a key: 403';
is $d->{error}{code}, 'QUOTA_EXCEEDED', '... QUOTA_EXCEEDED';
is psql("SELECT count(*) FROM idempotency_keys WHERE scope = 'key:"
        . psql("SELECT id FROM api_keys WHERE name = 'editorQ'") . "'"), 1, '... not kept';
psql("UPDATE accounts SET max_videos = 2 WHERE id = 'acctQ'");
($s, $b, $d, $h) = call('editorQ', '/api/upload/presign', presign('q2.mp4'), 'q-2');
is $s, 201, 'with room again, the retry runs: 201';
ok !replayed($h), '... not a replay of the 403';
is uploads('acctQ'), 2, '... two uploads';

# a statement that times out (the account's row held by another
# transaction for longer than video_api_postgres timeout=): 503, not kept
my $locker = fork // die "fork: $!";
if ($locker == 0) {
    { exec 'psql', VideoApi::conninfo(), qw(-XAtq -o /dev/null -c),
           "BEGIN; SELECT 1 FROM accounts WHERE id = 'acctB' FOR UPDATE; SELECT pg_sleep(4); COMMIT;" }
    POSIX::_exit(127);
}
ok wait_for(5, sub { psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%'"
                          . " AND state = 'active' AND pid <> pg_backend_pid()") > 0 }),
   'another transaction holds acctB\'s row';
$nb = uploads('acctB');
($s, $b, $d) = call('editorB', '/api/upload/presign', presign('t.mp4'), 'down-1');
is $s, 503, 'presign under a key, its statement timed out: 503';
is $d->{error}{code}, 'UNAVAILABLE', '... UNAVAILABLE';
waitpid $locker, 0;
is psql("SELECT count(*) FROM idempotency_keys WHERE key_hash = sha256(convert_to('down-1', 'UTF8'))"), 0,
   '... not kept';
($s, $b, $d, $h) = call('editorB', '/api/upload/presign', presign('t.mp4'), 'down-1');
is $s, 201, '... so its retry runs: 201';
ok !replayed($h), '... afresh';
is uploads('acctB'), $nb + 1, '... one upload';

# the first request fails while a retry waits for it: the retry creates
# the thing.  acctB's row is held 3.5 s: the first presign's statement
# times out at 2 s (503, rolled back), the retry sent 0.7 s later has
# waited for the first one's claim, then claims the key itself and gets
# the row at 3.5 s
$locker = fork // die "fork: $!";
if ($locker == 0) {
    { exec 'psql', VideoApi::conninfo(), qw(-XAtq -o /dev/null -c),
           "BEGIN; SELECT 1 FROM accounts WHERE id = 'acctB' FOR UPDATE; SELECT pg_sleep(3.5); COMMIT;" }
    POSIX::_exit(127);
}
ok wait_for(5, sub { psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3.5)%'"
                          . " AND state = 'active' AND pid <> pg_backend_pid()") > 0 }),
   'another transaction holds acctB\'s row';
$nb = uploads('acctB');
my $first = File::Temp->new;
my $kid = fork // die "fork: $!";
if ($kid == 0) {
    my ($cs) = call('editorB', '/api/upload/presign', presign('w.mp4'), 'wait-1');
    open my $fh, '>', $first->filename or POSIX::_exit(1);
    print $fh $cs;
    close $fh;
    POSIX::_exit(0);
}
Time::HiRes::sleep(0.7);
($s, $b, $d, $h) = call('editorB', '/api/upload/presign', presign('w.mp4'), 'wait-1');
waitpid $kid, 0;
waitpid $locker, 0;
is do { local (@ARGV, $/) = ($first->filename); <> }, 503, 'the first request timed out: 503';
is $s, 201, 'the retry that waited for it made the upload: 201';
ok !replayed($h), '... not a replay';
is uploads('acctB'), $nb + 1, '... one upload';
($s2, $b2, $d2, $h2) = call('editorB', '/api/upload/presign', presign('w.mp4'), 'wait-1');
is "$s2 $b2", "$s $b", '... whose answer the next retry gets';
ok replayed($h2), '... replayed';

# -- where auth is off: the account's key space -------------------------------------

$n = uploads('default');
my ($so, $bo) = call('anon', '/api/upload/presign', presign('o.mp4'), 'open-1', $open);
is $so, 201, 'auth off, no API key: 201';
($s, $b, $d, $h) = call('anon', '/api/upload/presign', presign('o.mp4'), 'open-1', $open);
is "$s $b", "$so $bo", '... retried: replayed';
ok replayed($h), '... marked';
is psql("SELECT count(*) FROM idempotency_keys WHERE scope = 'open:default'"), 1,
   '... scoped by the account (open:default)';
($s, $b, $d, $h) = call('editorA', '/api/upload/presign', presign('o.mp4'), 'open-1', $open);
is $s, 201, '... an API key there has keys of its own';
ok !replayed($h), '... not the keyless callers\' answer';
is uploads('default'), $n + 2, 'two uploads';

# -- concurrent retries: one thing ----------------------------------------------------

$n = uploads('default');
my $parallel = 8;
my @out;
my @kids;
for my $i (1 .. $parallel) {
    my $f = File::Temp->new;
    push @out, $f;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my ($cs, $cb, $cd, $ch) = call('editorA', '/api/upload/presign', presign('race.mp4'), 'race-1');
        open my $fh, '>', $f->filename or POSIX::_exit(1);
        print $fh "$cs\n" . replayed($ch) . "\n$cb";
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my (%status, %bodies, $replays);
for my $f (@out) {
    my ($cs, $cr, $cb) = split /\n/, do { local (@ARGV, $/) = ($f->filename); <> } // '', 3;
    $status{$cs}++;
    $replays += $cr if $cs == 201;
    $bodies{$cb}++ if $cs == 201;
}
is uploads('default'), $n + 1, "$parallel concurrent requests with one key: one upload";
is join(',', sort keys %status), '201', '... every one answered 201 (the others waited for the first)';
is scalar(keys %bodies), 1, '... with one body';
is $replays, $parallel - 1, '... all but one replayed';

# -- expiry: the key is new again, and the cleanup worker forgets it ------------------

psql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
     . " WHERE route = 'POST /api/upload/presign' AND key_hash = sha256(convert_to('order-1', 'UTF8'))"
     . " AND scope = 'key:" . psql("SELECT id FROM api_keys WHERE name = 'editorA'") . "'");
$n = uploads('default');
($s, $b, $d, $h) = call('editorA', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $s, 201, 'an expired key: 201';
ok !replayed($h), '... a new request';
isnt $d->{data}{videoId}, $d1->{data}{videoId}, '... a new upload';
is uploads('default'), $n + 1, '... recorded';
($s, $b2) = call('editorA', '/api/upload/presign', presign('a.mp4'), 'order-1');
is $b2, $b, '... whose answer is now the one replayed';

is psql("SELECT count(*) FROM idempotency_keys WHERE expires_at BETWEEN now() + interval '23 hours 59 minutes'"
        . " AND now() + interval '24 hours 1 minute'"), rows(), 'keys expire after 24 hours by default';
psql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE route = 'POST /api/live/create'");
$r = rows();
mkdir "$dir/work";
push @workers, worker_start($dir, 'cleanup',
                            worker_env($dir, $auth, 'http://127.0.0.1:9', VIDEO_WORKER_UPLOAD_SWEEP_SECONDS => 1));
ok wait_for(15, sub { rows() == $r - 1 }), 'the cleanup worker deletes an expired key\'s row';
is psql("SELECT count(*) FROM idempotency_keys WHERE route = 'POST /api/live/create'"), 0, '... that one';
kill 'TERM', @workers;
waitpid $_, 0 for @workers;
@workers = ();
($s, $b, $d, $h) = call('editorA', '/api/live/create', '{"title":"Idem"}', 'order-1');
is $s, 201, 'live create under the forgotten key: a new stream';
isnt $d->{data}{videoId}, $dl->{data}{videoId}, '... not the old one';

# (a static file some other client asked the default server for is no
# error of the API's)
my ($errors) = grep { /\[(?:error|alert|crit)\]/ && !/open\(\) "[^"]*" failed \(2: No such file/ }
               do { local @ARGV = ("$dir/logs/error.log"); <> };
ok !$errors, 'no error in the log' or diag $errors;

done_testing();
