# Rows scoped by the caller: what anonymous callers, keys of one account
# and another, and admins see of each video and list (from PostgreSQL and
# again from the caches), and which they may change.  A video the caller
# may not see answers exactly as an unknown id; callers outside a video's
# account get its public view (no storage keys, no account, no errors).
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

my $dir = "$ENV{PWD}/t/servroot-scope";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 48;
my $auth = $port + 1;
my $json = JSON::PP->new->canonical;


END { nginx_stop($dir) if $dir; }

my %key = access_reset(accounts => [['acctB']],
                       keys => [['viewerA', 'default', 'viewer'], ['editorA', 'default', 'editor'],
                                ['editorB', 'acctB', 'editor'], ['admin', 'acctB', 'admin']]);

# each video: account, visibility
my %video = (
    scopeApubAAAAAAAAAAAA => ['default', 'PUBLIC'],
    scopeAunlAAAAAAAAAAAA => ['default', 'UNLISTED'],
    scopeAprvAAAAAAAAAAAA => ['default', 'PRIVATE'],
    scopeBpubAAAAAAAAAAAA => ['acctB', 'PUBLIC'],
    scopeBprvAAAAAAAAAAAA => ['acctB', 'PRIVATE'],
);
my $age = 10;
for my $id (sort keys %video) {
    my ($account, $vis) = @{$video{$id}};
    seed_video(id => $id, account_id => $account, visibility => $vis,
               title => "Scoped $vis of $account", status => 'READY',
               thumbnail_key => "$id/thumbnail.jpg",
               hls_manifest_key => "$id/master.m3u8",
               processing_error => "ffmpeg: /srv/secret/path exploded",
               age => $age++);
    psql("INSERT INTO video_variants (id, video_id, resolution, width, height, bitrate, playlist_key) "
         . "VALUES ('" . substr($id, 0, 17) . "v720', '$id', '720p', 1280, 720, 2800, '$id/720p/playlist.m3u8')");
}
my $unknown = 'scopeZZZZZZZZZZZZZZZZ';

nginx_start($dir, $port, <<"HTTP", '');
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    server {
        listen 127.0.0.1:$auth;
        location /api/ { video_api all; video_api_auth on; }
    }
HTTP

sub call {
    my ($who, $method, $path, $body) = @_;
    my @args = ('-X', $method, "http://127.0.0.1:$auth$path");
    push @args, '-H', "Authorization: Bearer $key{$who}" if $who ne 'anon';
    push @args, '-H', 'Content-Type: application/json', '--data-binary', $body
        if defined $body;
    my ($s, $b) = curl(@args);
    return ($s, $b, eval { $json->decode($b) });
}

# who sees what of one video by id: 'full', 'public' or 'none'
sub sees {
    my ($who, $id) = @_;
    my ($account, $vis) = @{$video{$id}};
    return 'full' if $who eq 'admin';
    my $own = ($who =~ /A$/ && $account eq 'default') || ($who =~ /B$/ && $account eq 'acctB');
    return 'full' if $own;
    return $vis eq 'PRIVATE' ? 'none' : 'public';
}

my ($s, $b, $d);
my ($us, $ub) = call('anon', 'GET', "/api/videos/$unknown");
is $us, 404, 'an unknown id is 404';

for my $round ('from PostgreSQL', 'from the cache') {
    for my $who (qw(anon viewerA editorA editorB admin)) {
        for my $id (sort keys %video) {
            my $want = sees($who, $id);
            ($s, $b, $d) = call($who, 'GET', "/api/videos/$id");
            my $what = "$round: $who GET $id ($video{$id}[1] of $video{$id}[0])";
            if ($want eq 'none') {
                is $s, 404, "$what is 404";
                (my $same = $ub) =~ s/$unknown/$id/g;
                is $b, $same, '... exactly as an unknown id';
                next;
            }
            is $s, 200, "$what is 200";
            my $v = $d->{data}{video};
            if ($want eq 'full') {
                is $v->{accountId}, $video{$id}[0], '... the whole object: its account';
                is $v->{thumbnailKey}, "$id/thumbnail.jpg", '... its storage keys';
                is $v->{variants}[0]{playlistKey}, "$id/720p/playlist.m3u8", '... its variants\' keys';
            } else {
                ok !exists $v->{accountId} && !exists $v->{thumbnailKey}
                   && !exists $v->{hlsManifestKey}
                   && !exists $v->{variants}[0]{playlistKey},
                    '... the public view: no account, no storage keys';
                like $v->{playbackUrl}, qr{/play/$id/}, '... but where to play it';
                is $v->{variants}[0]{height}, 720, '... and its variants';
            }
        }
    }
}

# -- lists -------------------------------------------------------------------

my %listed = (
    anon => [grep { $video{$_}[1] eq 'PUBLIC' } keys %video],
    viewerA => [grep { $video{$_}[0] eq 'default' } keys %video],
    editorA => [grep { $video{$_}[0] eq 'default' } keys %video],
    editorB => [grep { $video{$_}[0] eq 'acctB' } keys %video],
    admin => [keys %video],
);

for my $round ('from PostgreSQL', 'from the cache') {
    for my $who (qw(anon viewerA editorB admin editorA)) {
        for my $query ('', '?limit=2', '?q=Scoped', '?visibility=PRIVATE', '?status=READY') {
            ($s, $b, $d) = call($who, 'GET', "/api/videos$query");
            is $s, 200, "$round: $who lists /api/videos$query";
            my @want = sort @{$listed{$who}};
            @want = grep { $video{$_}[1] eq 'PRIVATE' } @want if $query =~ /PRIVATE/;
            my @got = sort map { $_->{id} } @{$d->{data}{videos}};
            if ($query =~ /limit=2/) {
                is scalar(@got), @want < 2 ? scalar(@want) : 2, '... a page';
                is $d->{data}{total}, scalar(@want), '... the total of what it may list';
                # the rest by cursor
                my $next = $d->{data}{nextCursor};
                while ($next) {
                    my (undef, undef, $dd) = call($who, 'GET', "/api/videos?limit=2&cursor=$next");
                    push @got, map { $_->{id} } @{$dd->{data}{videos}};
                    $next = $dd->{data}{nextCursor};
                }
                @got = sort @got;
            }
            is_deeply \@got, \@want, '... exactly the videos it may list';
            is $d->{data}{total}, scalar(@want), '... and their total' unless $query =~ /limit/;
            if ($who eq 'anon') {
                unlike $b, qr/accountId|thumbnailKey|hlsManifestKey|playlistKey|secret/,
                    '... in their public view';
            }
        }
    }
}

# -- changes -----------------------------------------------------------------

sub title { psql("SELECT title FROM videos WHERE id = '$_[0]'") }

($s, $b) = call('editorB', 'PATCH', '/api/videos/scopeApubAAAAAAAAAAAA', '{"title":"Taken"}');
is $s, 404, "an editor of another account may not edit a video it can see";
is title('scopeApubAAAAAAAAAAAA'), 'Scoped PUBLIC of default', '... unchanged';
($s, $b) = call('editorB', 'PATCH', '/api/videos/scopeAprvAAAAAAAAAAAA', '{"title":"Taken"}');
(my $same = $ub) =~ s/$unknown/scopeAprvAAAAAAAAAAAA/g;
is "$s $b", "404 $same", "... nor one it cannot see, answered as an unknown id";
($s, $b) = call('editorB', 'DELETE', '/api/videos/scopeAprvAAAAAAAAAAAA');
is $s, 404, '... nor delete it';
is psql("SELECT count(*) FROM videos WHERE id = 'scopeAprvAAAAAAAAAAAA'"), 1, '... still there';
($s, $b, $d) = call('editorA', 'PATCH', '/api/videos/scopeAprvAAAAAAAAAAAA', '{"title":"Mine"}');
is $s, 200, 'an editor edits its account\'s video';
is $d->{data}{video}{title}, 'Mine', '... and gets it back whole';
is $d->{data}{video}{accountId}, 'default', '... with its account';
($s) = call('admin', 'PATCH', '/api/videos/scopeAprvAAAAAAAAAAAA', '{"title":"Admin"}');
is $s, 200, 'an admin edits any account\'s video';
($s) = call('anon', 'GET', '/api/videos/scopeAprvAAAAAAAAAAAA');
is $s, 404, 'after the changes, still hidden from anonymous callers';
($s, $b, $d) = call('editorA', 'PATCH', '/api/videos/scopeAprvAAAAAAAAAAAA', '{"visibility":"PUBLIC"}');
is $s, 200, 'made PUBLIC';
($s, $b, $d) = call('anon', 'GET', '/api/videos/scopeAprvAAAAAAAAAAAA');
is $s, 200, '... it is seen at once';
ok !exists $d->{data}{video}{thumbnailKey}, '... in its public view';
($s, $b, $d) = call('anon', 'GET', '/api/videos');
ok((grep { $_->{id} eq 'scopeAprvAAAAAAAAAAAA' } @{$d->{data}{videos}}), '... and listed');
($s) = call('editorA', 'PATCH', '/api/videos/scopeAprvAAAAAAAAAAAA', '{"visibility":"PRIVATE"}');
($s) = call('anon', 'GET', '/api/videos/scopeAprvAAAAAAAAAAAA');
is $s, 404, 'made PRIVATE again, it is hidden at once';
($s, $b, $d) = call('anon', 'GET', '/api/videos');
ok !(grep { $_->{id} eq 'scopeAprvAAAAAAAAAAAA' } @{$d->{data}{videos}}), '... and no longer listed';

# -- progress ------------------------------------------------------------------

($s, $b) = call('anon', 'GET', '/api/videos/scopeAprvAAAAAAAAAAAA/progress');
is $s, 404, 'the progress of a hidden video is 404';
($s, $b, $d) = call('anon', 'GET', '/api/videos/scopeApubAAAAAAAAAAAA/progress');
is $s, 200, 'that of a public one is shown';
is $d->{data}{error}, undef, '... without its error text';
($s, $b, $d) = call('editorA', 'GET', '/api/videos/scopeApubAAAAAAAAAAAA/progress');
like $d->{data}{error}, qr/exploded/, 'its account sees the error';

# -- views and stats: counted and shown only where the video is seen ----------

sub redis_cli { my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @_}; chomp $out; return $out }

# as if the analytics worker had seeded the counters: stats read Redis;
# the id set is left to be filled (a suite before may have marked it
# complete without this suite's videos)
redis_cli('SET', 'views:loaded', 1);
redis_cli('DEL', 'video:ids', 'video:ids:complete');

for my $cached (0, 1) {
    my $how = $cached ? 'with the video cached' : 'with no cached copy';
    unless ($cached) {
        redis_cli('DEL', "video:$_") for keys %video;
    }
    my $before = redis_cli('HGET', 'views:t', 'scopeAprvAAAAAAAAAAAA') || 0;
    ($s, $b) = call('anon', 'POST', '/api/analytics/view/scopeAprvAAAAAAAAAAAA');
    (my $same = $ub) =~ s/$unknown/scopeAprvAAAAAAAAAAAA/g;
    is "$s $b", "404 $same", "$how: an anonymous view of a PRIVATE video is 404, as an unknown id";
    is redis_cli('HGET', 'views:t', 'scopeAprvAAAAAAAAAAAA') || 0, $before, '... and not counted';
    ($s, $b) = call('editorB', 'GET', '/api/analytics/stats/scopeAprvAAAAAAAAAAAA');
    is "$s $b", "404 $same", "$how: nor may another account see its stats";
    ($s) = call('editorA', 'POST', '/api/analytics/view/scopeAprvAAAAAAAAAAAA');
    is $s, 200, "$how: its account counts a view";
    is redis_cli('HGET', 'views:t', 'scopeAprvAAAAAAAAAAAA'), $before + 1, '... counted once';
    ($s, $b, $d) = call('viewerA', 'GET', '/api/analytics/stats/scopeAprvAAAAAAAAAAAA');
    is $s, 200, "$how: and sees its stats";
    is $d->{data}{viewsTotal}, $before + 1, '... with the view';
    ($s) = call('anon', 'POST', '/api/analytics/view/scopeAunlAAAAAAAAAAAA');
    is $s, 200, "$how: an anonymous view of an UNLISTED video counts";
    ($s) = call('anon', 'GET', '/api/analytics/stats/scopeBpubAAAAAAAAAAAA');
    is $s, 200, "$how: anyone sees a PUBLIC video's stats";
}

redis_cli('DEL', 'views:loaded');

# -- live streams ------------------------------------------------------------

($s, $b, $d) = call('editorB', 'POST', '/api/live/create', '{"title":"B live","visibility":"PRIVATE"}');
is $s, 201, 'an editor creates a live stream';
my $live = $d->{data}{videoId};
my $skey = $d->{data}{streamKey};
is psql("SELECT account_id FROM videos WHERE id = '$live'"), 'acctB', '... in its account';
(my $lsame = $ub) =~ s/$unknown/$live/g;
for my $who (qw(anon editorA viewerA)) {
    ($s, $b) = call($who, 'GET', "/api/live/$live");
    is $s, 404, "$who may not see another account's PRIVATE stream";
    ($s, $b) = call($who, 'GET', "/api/live/$live/watch");
    is $s, 404, '... nor watch it';
}
($s, $b) = call('anon', 'GET', "/api/live/scopeZZZZZZZZZZZZZZZZ");
my ($s2, $b2) = call('anon', 'GET', "/api/live/$live");
(my $norm = $b) =~ s/scopeZZZZZZZZZZZZZZZZ/$live/g;
is $b2, $norm, '... answered as an unknown id';
for my $w (['POST', "/api/live/$live/key", undef], ['POST', "/api/live/$live/stop", '{}'],
           ['PATCH', "/api/live/$live/visibility", '{"visibility":"PUBLIC"}'])
{
    ($s, $b) = call('editorA', $w->[0], $w->[1], $w->[2]);
    is $s, 404, "an editor of another account: $w->[0] $w->[1] is 404";
}
is psql("SELECT visibility || ' ' || status FROM videos WHERE id = '$live'"), 'PRIVATE PENDING',
    '... and the stream is unchanged';
($s, $b) = call('anon', 'POST', "/api/live/$live/start", '{"streamKey":"wrongwrongwrongwrongwrongwrong12"}');
is "$s", 404, 'start with a wrong key on a stream the caller cannot see: 404, as an unknown id';
($s, $b) = call('editorB', 'POST', "/api/live/$live/start", '{"streamKey":"wrongwrongwrongwrongwrongwrong12"}');
is $s, 401, '... its own account hears the key is wrong';
($s, $b) = call('anon', 'POST', "/api/live/$live/start", qq({"streamKey":"$skey"}));
is $s, 200, '... and the right key starts it, whoever sends it';
($s, $b, $d) = call('editorB', 'GET', "/api/live/$live");
is $s, 200, 'its account sees it';

# -- a play token's holder ------------------------------------------------------

my $pid = 'scopeAprvAAAAAAAAAAAA';
($s, $b, $d) = call('editorA', 'GET', "/api/videos/$pid");
my ($tok) = ($d->{data}{video}{playbackUrl} // '') =~ m{/play/$pid/([^/]+)/};
ok $tok, 'the account\'s view of its PRIVATE video carries a play token';
(my $psame = $ub) =~ s/$unknown/$pid/g;

sub with_token {
    my ($method, $path, $t) = @_;
    my ($st, $bd) = curl('-X', $method, "http://127.0.0.1:$auth$path", '-H', "X-Play-Token: $t");
    return ($st, $bd, eval { $json->decode($bd) });
}

redis_cli('SET', 'views:loaded', 1);
for my $cached (0, 1) {
    my $how = $cached ? 'cached' : 'uncached';
    redis_cli('DEL', "video:$pid") unless $cached;
    ($s, $b, $d) = with_token('GET', "/api/videos/$pid", $tok);
    is $s, 200, "$how: an anonymous caller with the token reads the video";
    ok !exists $d->{data}{video}{thumbnailKey}, '... in its public view';
    redis_cli('DEL', "video:$pid") unless $cached;
    my $before = redis_cli('HGET', 'views:t', $pid) || 0;
    ($s) = with_token('POST', "/api/analytics/view/$pid", $tok);
    is $s, 200, "$how: and counts a view (an embedded private player)";
    is redis_cli('HGET', 'views:t', $pid), $before + 1, '... counted';
}
redis_cli('DEL', 'views:loaded');

my ($otok) = do {
    my (undef, undef, $dd) = call('editorB', 'GET', '/api/videos/scopeBprvAAAAAAAAAAAA');
    ($dd->{data}{video}{playbackUrl} // '') =~ m{/play/scopeBprvAAAAAAAAAAAA/([^/]+)/};
};
ok $otok, 'a token of another video';
for my $t (["another video's token", $otok], ['a tampered token', $tok =~ s/.\z/$& eq 'A' ? 'B' : 'A'/er],
           ['no token shape', 'abc'])
{
    ($s, $b) = with_token('GET', "/api/videos/$pid", $t->[1]);
    is "$s $b", "404 $psame", "$t->[0]: as an unknown id";
    ($s, $b) = with_token('POST', "/api/analytics/view/$pid", $t->[1]);
    is "$s $b", "404 $psame", "$t->[0]: no view counted";
}

# the video public then private again: the token dies with its generation
call('editorA', 'PATCH', "/api/videos/$pid", '{"visibility":"PUBLIC"}');
($s) = with_token('GET', "/api/videos/$pid", $tok);
is $s, 200, 'made PUBLIC, anyone reads it';
call('editorA', 'PATCH', "/api/videos/$pid", '{"visibility":"PRIVATE"}');
($s, $b) = with_token('GET', "/api/videos/$pid", $tok);
is "$s $b", "404 $psame", 'PRIVATE again: the token minted before no longer admits';
($s, $b) = with_token('POST', "/api/analytics/view/$pid", $tok);
is $s, 404, '... nor counts a view';

($s) = call('editorB', 'DELETE', '/api/videos/scopeBprvAAAAAAAAAAAA');
is $s, 200, 'an editor deletes its account\'s video';

done_testing;
