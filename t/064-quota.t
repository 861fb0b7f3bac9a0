# Account limits: stored bytes, videos and concurrent live streams, checked
# and reserved in one row update, so concurrent presigns or live creates
# that fit one limit only once pass once; a refusal is a 403
# QUOTA_EXCEEDED naming the limit, and changes nothing.  Reservations are
# given back when an upload is swept or a video deleted or a stream ends,
# the live limit is checked again when a publisher connects, and the
# counts always equal what the tables hold.
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

my $dir = "$ENV{PWD}/t/servroot-quota";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 55;
my $auth = $port + 1;
my $json = JSON::PP->new;


END { nginx_stop($dir) if $dir; }

my %key = access_reset(accounts => [['quotaA', qw(--max-bytes 1000 --max-videos 3 --max-live 1)],
                                    ['quotaB', qw(--max-videos 1)]],
                       keys => [['editorA', 'quotaA', 'editor'], ['editorB', 'quotaB', 'editor'],
                                ['admin', 'default', 'admin']]);

nginx_start($dir, $port, <<"HTTP",
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=8;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=quota-suite-secret;
    server {
        listen 127.0.0.1:$auth;
        location /api/ { video_api all; video_api_auth on; }
    }
HTTP
    callbacks_location());

sub call {
    my ($who, $method, $path, $body) = @_;
    my @args = ('-X', $method, "http://127.0.0.1:$auth$path",
                '-H', "Authorization: Bearer $key{$who}");
    push @args, '-H', 'Content-Type: application/json', '--data-binary', $body
        if defined $body;
    my ($s, $b) = curl(@args);
    return ($s, $b, eval { $json->decode($b) });
}

sub presign_body {
    my ($size) = @_;
    return qq({"fileName":"a.mp4","fileSize":$size,"contentType":"video/mp4"});
}

sub usage {
    my ($acct) = @_;
    return psql("SELECT used_videos || ' ' || used_bytes || ' ' || open_live || ' ' || live_now"
                . " FROM accounts WHERE id = '$acct'");
}

sub pending { psql("SELECT count(*) FROM uploads WHERE account_id = '$_[0]' AND completed_at IS NULL") }

# runs $n copies of the call at once: their statuses, sorted
sub at_once {
    my ($n, @call) = @_;
    my @pids;
    for my $i (1 .. $n) {
        pipe my $r, my $w or die $!;
        my $pid = fork // die $!;
        if ($pid == 0) {
            close $r;
            my ($s) = call(@call);
            print $w $s;
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pids, [$pid, $r];
    }
    my @s;
    for (@pids) {
        my $fh = $_->[1];
        push @s, scalar <$fh>;
        waitpid $_->[0], 0;
    }
    return sort @s;
}

use POSIX ();

my ($s, $b, $d);

# -- bytes -----------------------------------------------------------------------

($s, $b, $d) = call('editorA', 'POST', '/api/upload/presign', presign_body(600));
is $s, 201, 'a presign within the limits: 201';
is usage('quotaA'), '1 600 0 0', '... reserves a video and its bytes';

($s, $b, $d) = call('editorA', 'POST', '/api/upload/presign', presign_body(401));
is $s, 403, 'one byte past maxBytes: 403';
is $d->{error}{code}, 'QUOTA_EXCEEDED', '... QUOTA_EXCEEDED';
is $d->{error}{message}, "Account 'quotaA' has 600 of its 1000 bytes; this needs 401 more",
   '... saying what is used, the limit and what was asked';
is_deeply $d->{error}{details},
   [{ limit => 'maxBytes', max => 1000, used => 600, requested => 401,
      message => $d->{error}{message} }], '... and naming the limit in details';
is pending('quotaA'), 1, '... nothing recorded';
is usage('quotaA'), '1 600 0 0', '... nothing reserved';
unlike $b, qr/uploadUrl/, '... and no URL handed out';

($s) = call('editorA', 'POST', '/api/upload/presign', presign_body(400));
is $s, 201, 'exactly up to maxBytes: 201';

# -- videos -------------------------------------------------------------------

($s, $b, $d) = call('editorA', 'POST', '/api/live/create', '{"title":"one"}');
is $s, 201, 'a live stream is the third video';
my $live = $d->{data}{videoId};
my ($stream_key) = $d->{data}{streamKey};
is usage('quotaA'), '3 1000 1 0', '... and an open stream';

($s, $b, $d) = call('editorA', 'POST', '/api/upload/presign', presign_body(1));
is $s, 403, 'a fourth video: 403';
is $d->{error}{details}[0]{limit}, 'maxVideos', '... the videos limit';

# -- two at once against room for one --------------------------------------------

my @st = at_once(8, 'editorB', 'POST', '/api/upload/presign', presign_body(10));
is_deeply \@st, [201, (403) x 7], '8 concurrent presigns against maxVideos 1: one passes';
is pending('quotaB'), 1, '... one upload recorded';
is usage('quotaB'), '1 10 0 0', '... one reserved';

psql("DELETE FROM uploads WHERE account_id = 'quotaB'");
psql("UPDATE accounts SET max_videos = NULL, max_bytes = 1000 WHERE id = 'quotaB'");
@st = at_once(8, 'editorB', 'POST', '/api/upload/presign', presign_body(600));
is_deeply \@st, [201, (403) x 7], '8 concurrent presigns of 600 bytes against maxBytes 1000: one passes';
is usage('quotaB'), '1 600 0 0', '... its bytes reserved once';

psql("DELETE FROM uploads WHERE account_id = 'quotaB'");
psql("UPDATE accounts SET max_bytes = NULL, max_live = 1 WHERE id = 'quotaB'");
@st = at_once(6, 'editorB', 'POST', '/api/live/create', '{"title":"race"}');
is_deeply \@st, [201, (403) x 5], '6 concurrent live creates against maxLive 1: one passes';
is psql("SELECT count(*) FROM videos WHERE account_id = 'quotaB'"), 1, '... one stream made';

# -- live ------------------------------------------------------------------------

psql("UPDATE accounts SET max_videos = 10 WHERE id = 'quotaA'");
($s, $b, $d) = call('editorA', 'POST', '/api/live/create', '{"title":"two"}');
is $s, 403, 'a second open live stream past maxLive 1: 403';
is $d->{error}{details}[0]{limit}, 'maxLive', '... the live limit';
is psql("SELECT count(*) FROM videos WHERE account_id = 'quotaA'"), 1, '... no stream made';

# lowered after the stream was made: the publisher is refused when it connects
psql("UPDATE accounts SET max_live = 0 WHERE id = 'quotaA'");
my $publish = "app=live&flashver=FMLE%2F3.0&tcurl=rtmp%3A%2F%2F127.0.0.1%2Flive"
              . "&addr=127.0.0.1&clientid=7&call=publish&name=$stream_key&type=live";
($s, $b) = curl('-X', 'POST', '--data-binary', $publish, '-H',
                'Content-Type: application/x-www-form-urlencoded',
                "http://127.0.0.1:$port/api/live/verify");
is $s, 403, 'a publisher past maxLive when it connects: 403 (nginx-rtmp refuses it)';
like $b, qr/"code":"QUOTA_EXCEEDED"/, '... QUOTA_EXCEEDED';
is psql("SELECT is_live_now || ' ' || status FROM videos WHERE id = '$live'"), 'false PENDING',
   '... the stream is not live';
psql("UPDATE accounts SET max_live = 1 WHERE id = 'quotaA'");
($s) = curl('-X', 'POST', '--data-binary', $publish, '-H',
            'Content-Type: application/x-www-form-urlencoded',
            "http://127.0.0.1:$port/api/live/verify");
is $s, 302, 'within the limit the same publisher is accepted';
is usage('quotaA'), '3 1000 1 1', '... one stream publishing';

($s) = call('editorA', 'POST', "/api/live/$live/stop", '{}');
is $s, 200, 'stopping it';
is usage('quotaA'), '3 1000 0 0', '... gives back the open and the publishing stream';
($s, $b, $d) = call('editorA', 'POST', '/api/live/create', '{"title":"again"}');
is $s, 201, '... so a new stream fits';

# -- given back ----------------------------------------------------------------------

psql("UPDATE accounts SET max_videos = 1, max_bytes = 10 WHERE id = 'quotaA'");
($s) = call('editorA', 'DELETE', "/api/videos/$live");
is $s, 200, 'with limits lowered below what is used, a delete still works';
is usage('quotaA'), '3 1000 1 0', '... and gives its video back';

psql("UPDATE uploads SET expires_at = now() - interval '1 day' WHERE account_id = 'quotaA'");
psql("DELETE FROM uploads WHERE account_id = 'quotaA' AND expires_at < now()");
is usage('quotaA'), '1 0 1 0', 'swept uploads give their reservations back';

($s, $b, $d) = call('admin', 'GET', '/api/accounts');
my ($a) = grep { $_->{id} eq 'quotaA' } @{$d->{data}{accounts}};
is_deeply [@$a{qw(maxBytes maxVideos maxLive usedBytes usedVideos openLive liveNow)}],
          [10, 1, 1, 0, 1, 1, 0], 'an admin reads the limits and what is used';

is quota_drift(), '', 'every account\'s counts equal what its tables hold';

done_testing;
