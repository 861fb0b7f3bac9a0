# The management API: keys made, listed and revoked over HTTP within each
# role's reach (an editor its account's keys up to editor, never an admin
# key; an admin everything), accounts and the audit log for admins only,
# a key needed even where video_api_auth is off, and every change audited
# with who, what and from where.
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

my $dir = "$ENV{PWD}/t/servroot-access";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 52;
my $auth = $port + 1;
my $open = $port + 2;
my $json = JSON::PP->new;


END { nginx_stop($dir) if $dir; }

my %key = access_reset(accounts => [['acctB']],
                       keys => [['admin', 'default', 'admin'], ['editorA', 'default', 'editor'],
                                ['viewerA', 'default', 'viewer'], ['editorB', 'acctB', 'editor']]);
my %kid = map { $_ => psql("SELECT id FROM api_keys WHERE name = '$_'") } keys %key;

nginx_start($dir, $port, <<"HTTP", '');
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    server {
        listen 127.0.0.1:$auth;
        location /api/ { video_api all; video_api_auth on; }
    }
    server {
        listen 127.0.0.1:$open;
        location /api/ { video_api all; video_api_auth off; }
    }
HTTP

sub call {
    my ($who, $method, $path, $body, $p) = @_;
    my @args = ('-X', $method, "http://127.0.0.1:" . ($p // $auth) . $path);
    push @args, '-H', "Authorization: Bearer " . ($key{$who} // $who) if $who ne 'anon';
    push @args, '-H', 'Content-Type: application/json', '--data-binary', $body
        if defined $body;
    my ($s, $b) = curl(@args);
    return ($s, $b, eval { $json->decode($b) });
}

sub nkeys { psql('SELECT count(*) FROM api_keys') }

my ($s, $b, $d);

# -- who may manage keys ---------------------------------------------------------

my $n = nkeys();
($s, $b, $d) = call('anon', 'POST', '/api/keys', '{"role":"viewer"}');
is $s, 401, 'anonymous: 401';
($s) = call('anon', 'POST', '/api/keys', '{"role":"viewer"}', $open);
is $s, 401, 'where auth is off too: managing keys needs a key';
($s) = call('anon', 'GET', '/api/keys', undef, $open);
is $s, 401, '... even to list them';
($s, $b, $d) = call('viewerA', 'POST', '/api/keys', '{"role":"viewer"}');
is $s, 403, 'a viewer may not make keys';
($s, $b, $d) = call('editorA', 'POST', '/api/keys', '{"role":"admin"}');
is $s, 403, 'an editor may not make an admin key';
is $d->{error}{code}, 'FORBIDDEN', '... FORBIDDEN';
($s) = call('editorA', 'POST', '/api/keys', '{"role":"viewer","accountId":"acctB"}');
is $s, 403, '... nor a key of another account';
is nkeys(), $n, 'and nothing was made';

($s, $b, $d) = call('editorA', 'POST', '/api/keys', '{"role":"sudo","expiresIn":5,"name":7}');
is $s, 400, 'a bad body: 400';
is_deeply [sort map { $_->{path} } @{$d->{error}{details}}], [qw(expiresIn name role)],
    '... naming every bad field';

# -- making one ----------------------------------------------------------------

($s, $b, $d) = call('editorA', 'POST', '/api/keys', '{"role":"viewer","name":"ci","expiresIn":3600}');
is $s, 201, 'an editor makes a viewer key of its account';
my $new = $d->{data}{key};
like $new, qr/\Avapi_[0-9A-Za-z]{49}\z/, '... shown once, in the answer';
is $d->{data}{apiKey}{role}, 'viewer', '... with its role';
is $d->{data}{apiKey}{accountId}, 'default', '... its account';
is $d->{data}{apiKey}{createdBy}, $kid{editorA}, '... and who made it';
ok $d->{data}{apiKey}{expiresAt}, '... and when it expires';
is $d->{data}{apiKey}{hint}, substr($new, 0, 9), '... and its hint';
is psql("SELECT encode(key_hash, 'hex') FROM api_keys WHERE id = '$d->{data}{apiKey}{id}'"),
   sha256_hex($new), 'stored as its SHA-256';
$key{new} = $new;
($s) = call('new', 'GET', '/api/videos');
is $s, 200, 'the new key works';
($s) = call('new', 'PATCH', '/api/videos/x', '{"title":"x"}');
is $s, 403, '... as a viewer';

($s, $b, $d) = call('admin', 'POST', '/api/keys', '{"role":"editor","accountId":"acctB"}');
is $s, 201, 'an admin makes a key of any account';
is $d->{data}{apiKey}{accountId}, 'acctB', '... in it';
($s, $b, $d) = call('admin', 'POST', '/api/keys', '{"role":"editor","accountId":"nosuch"}');
is $s, 404, 'of an unknown account: 404';
($s) = call('anon', 'POST', '/api/keys', '{"role":"admin"}', $open);
is $s, 401, 'auth off makes no admin of an anonymous caller here';

# -- listing -------------------------------------------------------------------

($s, $b, $d) = call('editorA', 'GET', '/api/keys');
is $s, 200, 'an editor lists keys';
my @accounts = map { $_->{accountId} } @{$d->{data}{keys}};
ok @accounts >= 4 && !grep({ $_ ne 'default' } @accounts), '... of its account only';
unlike $b, qr/vapi_[0-9A-Za-z]{10}/, '... never a key';
unlike $b, qr/key_hash|keyHash/, '... nor a hash';
($s, $b, $d) = call('admin', 'GET', '/api/keys?accountId=acctB');
is $s, 200, 'an admin lists an account\'s keys';
ok((!grep { $_->{accountId} ne 'acctB' } @{$d->{data}{keys}}) && @{$d->{data}{keys}} == 2,
   '... that account\'s');
($s) = call('admin', 'GET', '/api/keys?accountId=no%20such');
is $s, 400, 'a malformed account id: 400';

# -- revoking ------------------------------------------------------------------

(my $same = (call('editorA', 'DELETE', "/api/keys/ZZZZZZZZZZZZZZZZZZZZZ"))[1]) =~ s/Z{21}/$kid{admin}/;
($s, $b) = call('editorA', 'DELETE', "/api/keys/$kid{admin}");
is "$s $b", "404 $same", 'an editor may not revoke its account\'s admin key: as an unknown one';
($s) = call('editorA', 'DELETE', "/api/keys/$kid{editorB}");
is $s, 404, '... nor another account\'s key';
is psql("SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL"), 0, '... nothing revoked';
my $newid = psql("SELECT id FROM api_keys WHERE name = 'ci'");
($s, $b, $d) = call('editorA', 'DELETE', "/api/keys/$newid");
is $s, 200, 'an editor revokes a key of its account';
ok $d->{data}{apiKey}{revokedAt}, '... revoked now';
Time::HiRes::sleep(1.05);
($s) = call('new', 'GET', '/api/videos');
is $s, 401, '... and a second later it is refused';
($s) = call('editorA', 'DELETE', "/api/keys/$newid");
is $s, 404, 'revoked again: 404';

# -- accounts ------------------------------------------------------------------

($s) = call('editorA', 'GET', '/api/accounts');
is $s, 403, 'an editor may not list accounts';
($s, $b, $d) = call('admin', 'POST', '/api/accounts', '{"name":"C","id":"acctC","maxVideos":5}');
is $s, 201, 'an admin makes an account';
is $d->{data}{account}{maxVideos}, 5, '... with its limits';
($s) = call('admin', 'POST', '/api/accounts', '{"name":"C again","id":"acctC"}');
is $s, 409, 'the same id again: 409';
($s, $b, $d) = call('admin', 'POST', '/api/accounts', '{"name":""}');
is $s, 400, 'a bad account body: 400';
($s, $b, $d) = call('admin', 'POST', '/api/accounts', '{"name":"Generated"}');
is $s, 201, 'an account with a generated id';
like $d->{data}{account}{id}, qr/\A[A-Za-z0-9_-]{21}\z/, '... of 21 characters';

seed_video(id => 'accessCCCCCCCCCCCCCCC', title => 'C', account_id => 'acctC',
           visibility => 'PRIVATE', status => 'READY');
($s, $b, $d) = call('admin', 'POST', '/api/keys', '{"role":"viewer","accountId":"acctC"}');
$key{viewerC} = $d->{data}{key};
($s) = call('viewerC', 'GET', '/api/videos/accessCCCCCCCCCCCCCCC');
is $s, 200, 'a key of the new account reads its video';
my $gen = psql("SELECT token_gen FROM videos WHERE id = 'accessCCCCCCCCCCCCCCC'");
($s, $b, $d) = call('admin', 'PATCH', '/api/accounts/acctC', '{"disabled":true,"maxBytes":1000}');
is $s, 200, 'an admin disables it';
ok $d->{data}{account}{disabledAt}, '... disabled';
is $d->{data}{account}{maxBytes}, 1000, '... and its limit changed';
is psql("SELECT token_gen FROM videos WHERE id = 'accessCCCCCCCCCCCCCCC'"), $gen + 1,
   '... its videos\' play tokens dead';
Time::HiRes::sleep(1.05);
($s) = call('viewerC', 'GET', '/api/videos/accessCCCCCCCCCCCCCCC');
is $s, 401, '... and its keys refused a second later';
($s, $b, $d) = call('admin', 'PATCH', '/api/accounts/acctC', '{"disabled":false}');
is $s, 200, 'enabled again';
($s, $b, $d) = call('admin', 'PATCH', '/api/accounts/acctC', '{"name":"C renamed","maxVideos":null}');
is $s, 200, 'renamed';
is $d->{data}{account}{name}, 'C renamed', '... with the new name';
is $d->{data}{account}{maxVideos}, undef, '... and no video limit now';
is $d->{data}{account}{maxBytes}, 1000, '... the other limit kept';
($s) = call('admin', 'PATCH', '/api/accounts/nosuch', '{"name":"x"}');
is $s, 404, 'an unknown account: 404';
($s, $b, $d) = call('admin', 'PATCH', '/api/accounts/acctC', '{}');
is $s, 400, 'nothing to change: 400';
($s, $b, $d) = call('admin', 'GET', '/api/accounts');
is $s, 200, 'an admin lists accounts';
is_deeply [sort grep { /^acct|default/ } map { $_->{id} } @{$d->{data}{accounts}}],
          [qw(acctB acctC default)], '... every one';

# -- the audit log -------------------------------------------------------------------

($s) = call('editorA', 'GET', '/api/audit');
is $s, 403, 'an editor may not read the audit log';
($s, $b, $d) = call('admin', 'GET', '/api/audit?limit=100');
is $s, 200, 'an admin reads it';
my @e = @{$d->{data}{entries}};
my %actions = map { $_->{action} => $_ } @e;
for my $a (qw(key.create key.revoke account.create account.update account.disable account.enable)) {
    ok $actions{$a}, "it has $a";
}
is $actions{'key.revoke'}{actorKeyId}, $kid{editorA}, 'who: the key that acted';
is $actions{'key.revoke'}{source}, '127.0.0.1', 'from where';
is $actions{'key.revoke'}{target}, $newid, 'on what';
like $actions{'key.revoke'}{at}, qr/^\d{4}-\d\d-\d\dT/, 'when';
is $e[0]{action}, 'account.update', 'newest first';
($s, $b, $d) = call('admin', 'GET', '/api/audit?accountId=acctB');
ok((!grep { $_->{accountId} ne 'acctB' } @{$d->{data}{entries}}), 'by account');
($s) = call('admin', 'GET', '/api/audit?limit=0');
is $s, 400, 'a bad limit: 400';

unlike join('', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob("$dir/logs/*")),
       qr/vapi_[0-9A-Za-z]{20}/, 'no key in any log';

# -- who am I ------------------------------------------------------------------

($s, $b, $d) = call('viewerA', 'GET', '/api/me');
is_deeply $d->{data}, { role => 'viewer', accountId => 'default', keyId => $kid{viewerA}, auth => 'on' },
    '/api/me: a key\'s role, account and id';
($s, $b, $d) = call('anon', 'GET', '/api/me');
is_deeply [$s, $d->{data}], [200, { role => undef, accountId => undef, keyId => undef, auth => 'on' }],
    '/api/me: an anonymous caller is no one';
($s, $b, $d) = call('anon', 'GET', '/api/me', undef, $open);
is_deeply $d->{data}, { role => 'admin', accountId => 'default', keyId => undef, auth => 'off' },
    '/api/me: where auth is off, the default account\'s admin';
($s, $b, $d) = call('vapi_' . ('A' x 49), 'GET', '/api/me');
is $s, 401, '/api/me: an invalid key is a 401';
unlike $b, qr/vapi_/, '... that does not echo it';

done_testing;
