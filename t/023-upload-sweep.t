# Abandoned uploads: the cleanup worker removes the raw object and the row
# of an upload presigned but never completed once its URL has expired and
# upload_grace has passed; completed uploads, uploads within their grace
# and rows not yet expired are left alone; an object or row already gone
# is no error; an object storage will not delete keeps its row for the
# next sweep; two cleanup workers share the work.  Real nginx (API and
# store), PostgreSQL and video-worker.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Path ();
use File::Temp ();
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-sweep";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 25;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my @workers;

END {
    stop_workers();
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/videos-raw";
system('chown', '-R', 'nobody', $data) if $> == 0;

psql('TRUNCATE videos, outbox, uploads CASCADE');
system("scripts/stack.sh rabbitmqctl -q purge_queue video-cleanup >/dev/null 2>&1");

# upload URLs live 2 s
nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret
                      presign_expires=2s;
${\ store_server($store, $data, '1m')}
CONF
${\ probe_location($endpoint)}
SERVER

sub start_workers {
    my ($n, %more) = @_;
    my %env = worker_env($dir, $port, $endpoint,
                         VIDEO_WORKER_UPLOAD_SWEEP_SECONDS => 1, %more);
    push @workers, worker_start($dir, 'cleanup', %env) for 1 .. $n;
}

# SIGTERM; 1 when every worker exited within 10 s
sub stop_workers {
    kill 'TERM', @workers;
    my $all = wait_for(10, sub { !grep { waitpid($_, POSIX::WNOHANG()) == 0 } @workers });
    kill 'KILL', @workers unless $all;
    @workers = ();
    return $all;
}

sub worker_log {
    return do { local (@ARGV, $/) = ("$dir/logs/worker-cleanup.log"); <> } // '';
}

sub row_exists {
    my ($id) = @_;
    return psql("SELECT count(*) FROM uploads WHERE video_id = '$id'") == 1;
}

my $ten = File::Temp->new;
print $ten 'x' x 10;
close $ten;

# presign and PUT through the API: (id, key)
sub upload {
    my (%opt) = @_;
    my ($s, $b) = http_request($port, 'POST', '/api/upload/presign',
        '{"fileName": "a.mp4", "fileSize": 10, "contentType": "video/mp4"}');
    die "presign: $s $b" unless $s == 201;
    my ($url) = $b =~ /"uploadUrl":"([^"]+)"/;
    my ($key) = $b =~ /"key":"([^"]+)"/;
    my ($id) = $key =~ m{^([^/]+)/};
    unless ($opt{no_put}) {
        ($s) = curl('-X', 'PUT', '--upload-file', $ten->filename,
                    '-H', 'Content-Type: video/mp4', '-H', 'If-None-Match: *', $url);
        die "PUT: $s" unless $s == 200;
    }
    return ($id, $key);
}

sub complete {
    my ($id, $key) = @_;
    my ($s) = http_request($port, 'POST', "/api/upload/$id/complete",
                           qq({"key": "$key"}));
    return $s;
}

# a row and object as an upload whose URL expired $age seconds ago
# leaves them (the object written straight into the data directory)
my $n_fake = 0;
sub fake_upload {
    my ($age) = @_;
    my $id = sprintf 'fake%017d', $n_fake++;
    my $key = "$id/original.mp4";
    File::Path::make_path("$data/videos-raw/$id");
    open my $fh, '>', "$data/videos-raw/$key" or die $!;
    print $fh 'x' x 10;
    close $fh;
    system('chown', '-R', 'nobody', "$data/videos-raw/$id") if $> == 0;
    psql("INSERT INTO uploads (video_id, key, size, content_type, expires_at, created_at)"
         . " VALUES ('$id', '$key', 10, 'video/mp4', now() - interval '$age seconds',"
         . " now() - interval '$age seconds' - interval '1 hour')");
    return ($id, $key);
}

sub object_exists {
    my ($key) = @_;
    return -e "$data/videos-raw/$key";
}

# -- within the grace: nothing is removed ---------------------------------

start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 3600);

my ($late, $late_key) = upload();
my ($never, $never_key) = upload(no_put => 1);
sleep 3;    # both URLs expired: let a sweep see them

# a row expired more than the grace ago: when it is gone, a sweep has run
my ($canary, $canary_key) = fake_upload(7200);
ok wait_for(15, sub { !row_exists($canary) }), 'a sweep removes a row past its grace';
ok !object_exists($canary_key), 'and its object';
ok row_exists($late) && object_exists($late_key), 'an upload expired within the grace is kept';
ok row_exists($never), 'so is one never uploaded';
is complete($late, $late_key), 201, 'completing after the URL expired, within the grace: 201';

# -- storage refusing the delete: the row stays --------------------------

ok stop_workers(), 'SIGTERM stops the cleanup worker';
my ($refused, $refused_key) = fake_upload(60);
start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 1,
              VIDEO_WORKER_STORAGE_SECRET_KEY => 'not-the-secret');
ok wait_for(15, sub { worker_log() =~ /cannot remove abandoned uploads, retrying: DELETE videos-raw\/\Q$refused_key\E: HTTP 403/ }),
   'a delete storage refuses is logged';
sleep 2;
ok row_exists($refused) && object_exists($refused_key), 'and the row is kept with its object';
my @retries = worker_log() =~ /cannot remove abandoned uploads/g;
is scalar @retries, 1, 'logged once, not at every sweep';
ok stop_workers(), 'stopped';

# -- past the grace --------------------------------------------------------

my ($abandoned, $abandoned_key) = upload();
my ($done, $done_key) = upload();
is complete($done, $done_key), 201, 'a completed upload';
my ($deleted, $deleted_key) = upload();
is complete($deleted, $deleted_key), 201, 'another, completed';
my ($s) = http_request($port, 'DELETE', "/api/videos/$deleted");
is $s, 200, 'and its video deleted';

# half-swept: the object gone, or the row gone
my ($no_object, $no_object_key) = upload();
unlink "$data/videos-raw/$no_object_key" or die $!;
my ($no_row, $no_row_key) = upload();
psql("DELETE FROM uploads WHERE video_id = '$no_row'");

# not expired yet
my ($fresh) = fake_upload(-3600);

sleep 3;    # the URLs above expired
start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 1);

ok wait_for(15, sub { !row_exists($abandoned) && !row_exists($never)
                      && !row_exists($no_object) && !row_exists($refused)
                      && !row_exists($deleted) }),
   'the sweep takes every upload past its grace';
ok !object_exists($abandoned_key), 'an uploaded, never completed object is removed';
ok !object_exists($refused_key), 'the one storage refused before, too';
ok !-e "$data/videos-raw/$never", 'one never uploaded leaves nothing';
is psql("SELECT count(*) FROM videos WHERE id IN ('$abandoned', '$never', '$no_object')"), 0,
   'none became a video';
is complete($abandoned, $abandoned_key), 404, 'completing a swept upload: 404';

ok row_exists($done) && object_exists($done_key), 'a completed upload is untouched';
is psql("SELECT status FROM videos WHERE id = '$done'"), 'PENDING', 'with its video';
ok row_exists($late) && object_exists($late_key), 'so is the one completed late';
ok row_exists($fresh), 'a row not yet expired is untouched';
ok object_exists($no_row_key), 'an object whose row is gone is not known to the sweep';
is complete($no_row, $no_row_key), 404, 'and cannot be completed';

my $log = worker_log();
like $log, qr/removed \d+ abandoned uploads?/, 'the worker says what it removed';
like $log, qr/forgot 1 completed upload of deleted videos/,
     'and drops the row of the deleted video';
unlike $log, qr/postgresql:/, 'no database errors';
unlike $log, qr/<Error>|<\?xml/, 'no response bodies in the log';
my @again = $log =~ /cannot remove abandoned uploads/g;
is scalar @again, 1, 'no storage errors but the one provoked';
ok stop_workers(), 'stopped';

# -- two cleanup workers ---------------------------------------------------

my $mark = length worker_log();
my @many = map { [fake_upload(600)] } 1 .. 30;
start_workers(2, VIDEO_WORKER_UPLOAD_GRACE => 1);
ok wait_for(30, sub { psql("SELECT count(*) FROM uploads WHERE video_id LIKE 'fake%' AND expires_at < now()") == 0 }),
   'two workers sweep 30 abandoned uploads';
ok !(grep { object_exists($_->[1]) } @many), 'every object is gone';
ok row_exists($fresh) && row_exists($done), 'the others are still there';
$log = substr worker_log(), $mark;
my $removed = 0;
$removed += $_ for $log =~ /removed (\d+) abandoned upload/g;
is $removed, 30, 'each removed once between them';
unlike $log, qr/postgresql:|cannot remove/, 'without errors';
ok stop_workers(), 'both stop on SIGTERM';

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $nginx_log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nginx_log, qr/\[alert\]|\[emerg\]|\[crit\]|exited on signal/, 'nginx: no alerts';

done_testing;
