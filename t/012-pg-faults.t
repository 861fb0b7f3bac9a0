# PostgreSQL faults, in one nginx lifetime: the server stopped gives quick
# 503s, the same worker recovers by itself when it is back, and an
# exhausted pool queues what it can, times out the rest, and never hangs.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Time::HiRes ();
use POSIX ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO};

my $dir = "$ENV{PWD}/t/servroot-pg-faults";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 11;
my $id = 'faultAAAAAAAAAAAAAAAA';

END { nginx_stop($dir) if $dir; stack(qw(start pg)) if $ENV{TEST_NGINX_PG_CONNINFO}; }

psql("DELETE FROM videos WHERE id LIKE 'fault%'");
seed_video(id => $id, title => 'fault tolerance');
seed_video(id => 'faultBBBBBBBBBBBBBBBB', title => 'another');

# concurrent requests, each in its own process: [status, seconds] in order
sub concurrently {
    my @reqs = @_;
    my @pipes;
    for my $r (@reqs) {
        pipe(my $rd, my $wr) or die $!;
        my $pid = fork // die $!;
        if ($pid == 0) {
            close $rd;
            my ($status, undef, $took) = http_request($port, @$r);
            print $wr "$status $took";
            close $wr;
            POSIX::_exit(0);    # no END blocks in the children
        }
        close $wr;
        push @pipes, [$pid, $rd];
        Time::HiRes::sleep(0.05);    # keep the order of arrival
    }
    my @out;
    for my $p (@pipes) {
        my $line = readline($p->[1]) // '0 0';
        waitpid $p->[0], 0;
        push @out, [split ' ', $line];
    }
    return @out;
}

# a transaction holding a lock for $seconds, in the background: the row
# of video $row (default: $id), or with $table the whole table
sub hold_row_lock {
    my ($seconds, $row, $table) = @_;
    $row //= $id;
    my $lock = $table ? "LOCK TABLE $table IN ACCESS EXCLUSIVE MODE"
                      : "SELECT 1 FROM videos WHERE id = '$row' FOR UPDATE";
    my ($rel, $mode) = $table ? ($table, 'AccessExclusiveLock') : ('videos', 'RowShareLock');
    my $pid = fork // die $!;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        exec 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, '-Xq', '-c',
             "BEGIN; $lock; SELECT pg_sleep($seconds); COMMIT;";
    }
    # wait until the lock is really held
    wait_for(5, sub {
        psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
             . "WHERE c.relname = '$rel' AND l.mode = '$mode' "
             . "AND l.pid <> pg_backend_pid()") > 0 });
    return $pid;
}

nginx_start($dir, $port, <<"CONF");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=1 queue=2 timeout=1s;
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=pg-faults-secret;
CONF

my ($status, $body, $took) = http_request($port, 'GET', "/api/videos/$id");
is $status, 200, 'a video is served';
my $worker = nginx_worker_pid($dir);
ok $worker, "worker pid $worker";

# -- PostgreSQL stopped --------------------------------------------------

stack(qw(stop pg));

($status, $body, $took) = http_request($port, 'GET', '/api/videos');
is $status, 503, 'list with PostgreSQL stopped: 503';
like $body, qr/"code":"UNAVAILABLE"/, 'an UNAVAILABLE envelope';
cmp_ok $took, '<', 1.5, "answered within the 1s timeout ($took s)";

($status, $body, $took) = http_request($port, 'GET', "/api/videos/$id");
is $status, 503, 'get with PostgreSQL stopped: 503';
cmp_ok $took, '<', 1.5, "answered quickly ($took s)";

($status, $body) = http_request($port, 'GET', '/health');
is $status, 503, 'health says 503';
like $body, qr/"postgres":"down"/, 'and names PostgreSQL';

# -- PostgreSQL back -----------------------------------------------------

stack(qw(start pg));

ok wait_for(10, sub { (http_request($port, 'GET', "/api/videos/$id"))[0] == 200 }),
   'requests succeed again once PostgreSQL is back, without a reload';
($status) = http_request($port, 'GET', '/api/videos');
is $status, 200, 'the list works too';
is nginx_worker_pid($dir), $worker, 'the same worker: it never crashed';

# -- pool of one: a slow statement holds the connection ------------------

# lock held for 0.6 s: the first PATCH waits on it, the queued GETs are
# served after it, all within the 1 s timeout
my $locker = hold_row_lock(0.6);
my @r = concurrently(['PATCH', "/api/videos/$id", '{"title": "patched"}'],
                     ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"],
                     ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"]);
waitpid $locker, 0;
is_deeply [map { $_->[0] } @r], [200, 200, 200],
          'queued requests are served when the connection frees up';
cmp_ok $r[0][1], '>', 0.3, "the PATCH waited for the lock ($r[0][1] s)";

# lock held for 3 s: the PATCH times out after 1 s, the two queued wait at
# most as long, the ones past the queue are refused at once
$locker = hold_row_lock(3);
@r = concurrently(['PATCH', "/api/videos/$id", '{"title": "again"}'],
                  ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"],
                  ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"],
                  ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"],
                  ['GET', "/api/videos/faultBBBBBBBBBBBBBBBB"]);
is $r[0][0], 503, 'the statement over the timeout gets 503';
for my $i (1, 2) {
    # served once the cancelled statement frees the connection, or out of
    # time themselves: either way an answer within the timeout
    like $r[$i][0], qr/^(200|503)$/, "queued request $i: $r[$i][0]";
    cmp_ok $r[$i][1], '<', 1.6, "queued request $i answered in time ($r[$i][1] s)";
}
is_deeply [map { $_->[0] } @r[3, 4]], [503, 503], 'past the queue: 503';
cmp_ok $r[0][1], '<', 2, "the slow statement was cut at the timeout ($r[0][1] s)";
cmp_ok $r[3][1], '<', 0.5, "past the queue: refused at once ($r[3][1] s)";
waitpid $locker, 0;

ok wait_for(5, sub { (http_request($port, 'GET', "/api/videos/$id"))[0] == 200 }),
   'the pool recovers after the timed-out connection is replaced';
is psql("SELECT title FROM videos WHERE id = '$id'"), 'patched',
   'the timed-out PATCH changed nothing';
is nginx_worker_pid($dir), $worker, 'still the same worker';

# -- a timed-out statement: the same answer on every route -------------------

seed_video(id => 'faultLIVEAAAAAAAAAAAA', title => 'a stream', video_type => 'LIVE');
my $unavailable = '{"success":false,"error":{"message":"Database is unavailable","status":503,"code":"UNAVAILABLE"}}';
for my $case (["PATCH /api/videos/$id", ['PATCH', "/api/videos/$id", '{"title":"late"}'], [2]],
              ['POST /api/live/:id/stop', ['POST', '/api/live/faultLIVEAAAAAAAAAAAA/stop', '{}'],
               [2, 'faultLIVEAAAAAAAAAAAA']],
              ['POST /api/upload/presign',
               ['POST', '/api/upload/presign', '{"fileName":"a.mp4","fileSize":10,"contentType":"video/mp4"}'],
               [2, undef, 'uploads']])
{
    my ($what, $req, $lock) = @$case;
    # the key is confirmed first, so the statement alone meets the lock
    http_request($port, 'GET', '/api/me');
    my $uploads = psql('SELECT count(*) FROM uploads');
    $locker = hold_row_lock(@$lock);
    my ($st, $bd, $t) = http_request($port, @$req);
    waitpid $locker, 0;
    is "$st $bd", "503 $unavailable", "$what: a statement past the timeout is the one 503 UNAVAILABLE";
    cmp_ok $t, '<', 2, "... at the timeout ($t s)";
    is psql('SELECT count(*) FROM uploads'), $uploads, '... and recorded nothing';
}
is psql("SELECT status || ' ' || (live_ended_at IS NULL) FROM videos WHERE id = 'faultLIVEAAAAAAAAAAAA'"),
   'PENDING true', 'the stream was not stopped';
is psql("SELECT title FROM videos WHERE id = '$id'"), 'patched', 'nor the video changed';
ok wait_for(5, sub { (http_request($port, 'GET', "/api/videos/$id"))[0] == 200 }),
   'the pool recovers again';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
like $log, qr/video_api: postgresql is down/, 'the outage is logged';
like $log, qr/video_api: postgresql is up/, 'and the recovery';
my $downs = () = $log =~ /postgresql is down/g;
cmp_ok $downs, '<=', 3, "logged once per state change, not per request ($downs)";
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alerts, no crashed worker';

done_testing;
