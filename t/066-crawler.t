# A crawler: as an anonymous caller, every answer it can reach (list
# pages by offset and by cursor under every filter and search, each
# listed video by id with its progress and stats, each live stream with
# its watch answer, the live directory), checked for any PRIVATE video's
# id and any play token of one; then the same walk as an editor of
# account A, checked for account B's PRIVATE videos.  From PostgreSQL and
# again from the caches.
#
# sanitizers: no (a thousand requests; t/061 and t/065 run there)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;

# this suite says who calls, each time
$VideoApi::KEY = q{};
use Test::More;
use JSON::PP;
use URI::Escape qw(uri_escape);

my $dir = "$ENV{PWD}/t/servroot-crawler";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 58;
my $json = JSON::PP->new->canonical;


END { nginx_stop($dir) if $dir; }

sub redis_cli { my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @_}; chomp $out; return $out }

my %key = access_reset(accounts => [['acctB']],
                       keys => [['editorA', 'default', 'editor'], ['editorB', 'acctB', 'editor']]);

nginx_start($dir, $port, <<"HTTP");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=crawler-suite-secret;
    video_api_public_url http://127.0.0.1:$port;
    video_api_rtmp_url rtmp://127.0.0.1:1935/live;
    video_api_playback secret=crawler-suite-playback-secret;
HTTP

# 60 videos: two accounts × three visibilities × five statuses × VOD and
# live, titles that searches find across all of them
my (%vis, %acct, @live);
my @statuses = qw(PENDING PROCESSING READY FAILED LIVE);
my $n = 0;
for my $acct ('default', 'acctB') {
    for my $v (qw(PUBLIC UNLISTED PRIVATE)) {
        for my $st (@statuses) {
            for my $type ($st eq 'LIVE' ? ('LIVE') : ('VOD', 'LIVE')) {
                my $id = sprintf 'crawl%s%s%02d', substr($acct, 0, 1), substr($v, 0, 3), $n++;
                $id .= 'x' x (21 - length $id);
                seed_video(id => $id, account_id => $acct, visibility => $v, status => $st,
                           video_type => $type, title => "Crawl $v $st $type common",
                           thumbnail_key => "$id/thumbnail.jpg", hls_manifest_key => "$id/master.m3u8",
                           is_live_now => $st eq 'LIVE' ? 'true' : 'false',
                           live_started_at => $st eq 'LIVE' ? '2026-01-01T00:00:00Z' : undef,
                           age => $n);
                ($vis{$id}, $acct{$id}) = ($v, $acct);
                push @live, $id if $type eq 'LIVE';
            }
        }
    }
}
redis_cli('DEL', map { "video:$_" } keys %vis);
redis_cli('SET', 'views:loaded', 1);

sub call {
    my ($who, $path) = @_;
    my ($s, $b) = http_request($port, 'GET', $path, undef,
                               $key{$who} ? "Authorization: Bearer $key{$who}\r\n" : undef);
    return ($s, $b);
}

# what must never show: each PRIVATE video's id and its play token, as
# its own account's view hands it out
my %secret;
for my $id (grep { $vis{$_} eq 'PRIVATE' } keys %vis) {
    my $owner = $acct{$id} eq 'default' ? 'editorA' : 'editorB';
    my (undef, $b) = call($owner, "/api/videos/$id");
    my ($tok) = $b =~ m{/play/\Q$id\E/([^/"]+)/};
    $secret{$id} = $tok;
}
ok((grep { defined } values %secret) >= 10, 'PRIVATE videos\' play tokens known: '
   . scalar(grep { defined } values %secret));
redis_cli('DEL', map { "video:$_" } keys %vis);

# walks everything the caller can reach; returns the answers' bodies
sub crawl {
    my ($who) = @_;
    my (%bodies, %seen, @queue);
    my $get = sub {
        my ($path) = @_;
        return $bodies{$path} if exists $bodies{$path};
        my ($s, $b) = call($who, $path);
        $bodies{$path} = $b;
        return $s == 200 ? $b : undef;
    };
    my @filters = ('');
    push @filters, "status=$_" for @statuses;
    push @filters, "visibility=$_" for qw(PUBLIC UNLISTED PRIVATE);
    push @filters, "videoType=$_" for qw(VOD LIVE);
    push @filters, 'q=' . uri_escape($_) for ('common', 'Crawl', 'PRIVATE', 'PUBLIC LIVE', 'UNLISTED', 'crawl');
    push @filters, 'status=READY&visibility=PRIVATE', 'videoType=LIVE&q=PRIVATE';
    for my $f (@filters) {
        my $sep = $f eq '' ? '' : "$f&";
        # by offset, until a page comes back short
        for (my $off = 0; ; $off += 7) {
            my $b = $get->("/api/videos?${sep}limit=7&offset=$off") // last;
            my $d = eval { $json->decode($b) } // last;
            push @queue, map { $_->{id} } @{$d->{data}{videos}};
            last if @{$d->{data}{videos}} < 7;
        }
        # by cursor, until there is none
        my $cursor = '';
        for (1 .. 50) {
            my $b = $get->("/api/videos?${sep}limit=5" . ($cursor ne '' ? "&cursor=$cursor" : '')) // last;
            my $d = eval { $json->decode($b) } // last;
            push @queue, map { $_->{id} } @{$d->{data}{videos}};
            $cursor = $d->{data}{nextCursor} // last;
        }
    }
    my $active = $get->('/api/live/active');
    push @queue, map { $_->{id} } @{(eval { $json->decode($active) } // {})->{data}{streams} // []};
    while (defined(my $id = shift @queue)) {
        next if $seen{$id}++;
        $get->("/api/videos/$id");
        $get->("/api/videos/$id/progress");
        $get->("/api/analytics/stats/$id");
        if (grep { $_ eq $id } @live) {
            $get->("/api/live/$id");
            $get->("/api/live/$id/watch");
        }
    }
    return (\%bodies, [sort keys %seen]);
}

for my $round ('from PostgreSQL', 'from the caches') {
    for my $case (['anon', sub { 1 }, 'anonymous'],
                  ['editorA', sub { $acct{$_[0]} eq 'acctB' }, "account A's editor, B's videos"])
    {
        my ($who, $theirs, $what) = @$case;
        my ($bodies, $ids) = crawl($who);
        my @private = grep { $vis{$_} eq 'PRIVATE' && $theirs->($_) } keys %vis;
        my @tokens = grep { defined } map { $secret{$_} } @private;
        my $all = join "\n", values %$bodies;
        my @leaked = grep { index($all, $_) >= 0 } @private;
        my @tleaked = grep { index($all, $_) >= 0 } @tokens;
        cmp_ok scalar(keys %$bodies), '>', 100, "$round, $what: " . scalar(keys %$bodies)
            . ' answers walked, ' . scalar(@$ids) . ' videos reached';
        is "@leaked", '', "$round, $what: no PRIVATE id in any answer";
        is "@tleaked", '', "$round, $what: no play token of a PRIVATE video in any answer";
        unlike $all, qr/thumbnailKey|hlsManifestKey/, "$round, $what: no storage key in any answer"
            if $who eq 'anon';
        my @unlisted = grep { $vis{$_} eq 'UNLISTED' && $theirs->($_) } @$ids;
        is "@unlisted", '', "$round, $what: no UNLISTED video reached through a list";
        diag sprintf '%s, %s: %d answers, %d videos, %.0f kB checked', $round, $what,
            scalar(keys %$bodies), scalar(@$ids), length($all) / 1024;
    }
}

# the check can fail: B's own editor does reach B's PRIVATE videos and
# their tokens, through the same walk
{
    my ($bodies) = crawl('editorB');
    my $all = join "\n", values %$bodies;
    my @private = grep { $vis{$_} eq 'PRIVATE' && $acct{$_} eq 'acctB' } keys %vis;
    my @found = grep { index($all, $_) >= 0 } @private;
    is scalar(@found), scalar(@private), 'B\'s editor reaches all of B\'s PRIVATE videos the same way';
    ok((grep { defined $secret{$_} && index($all, $secret{$_}) >= 0 } @private),
       '... and their play tokens');
}

redis_cli('DEL', 'views:loaded');

done_testing;
