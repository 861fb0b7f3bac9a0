# Abandoned uploads: the cleanup worker removes the raw object and the row
# of an upload presigned but never completed once its URL has expired and
# upload_grace has passed; completed uploads, uploads within their grace
# and rows not yet expired are left alone; an object or row already gone
# is no error; an object storage will not delete keeps its row for the
# next sweep; two cleanup workers share the work.  A multipart upload is
# aborted in storage (its parts gone, ListParts NoSuchUpload), one storage
# no longer has counts as done, and the account's reservation is released.  Real nginx (API and
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

# -- multipart uploads: aborted in storage ------------------------------------

SKIP: {
    my $aws = '/usr/bin/aws';
    skip "no $aws (Debian's awscli)", 21 unless -x $aws;

    # aws-cli with its own files and the store's keys, as t/026 has it
    my $home = "$dir/aws";
    mkdir $home;
    open my $cf, '>', "$home/config" or die;
    print $cf "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n";
    close $cf;
    open $cf, '>', "$home/credentials" or die;
    print $cf "[default]\naws_access_key_id = videoapi\naws_secret_access_key = videoapi-secret\n";
    close $cf;
    local $ENV{AWS_CONFIG_FILE} = "$home/config";
    local $ENV{AWS_SHARED_CREDENTIALS_FILE} = "$home/credentials";
    local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
    local $ENV{AWS_PAGER} = '';
    local @ENV{grep { /^AWS_(ACCESS|SECRET|SESSION|PROFILE|DEFAULT_REGION|REGION)/ } keys %ENV};

    # (exit status, decoded JSON output or {}, stderr)
    my $s3api = sub {
        my $err = File::Temp->new;
        my $out = qx{@{[ join ' ', map { quotemeta } $aws, '--endpoint-url', $endpoint, 's3api', @_ ]} 2>@{[ $err->filename ]}};
        my $rc = $? >> 8;
        require JSON::PP;
        return ($rc, (eval { JSON::PP::decode_json($out) } // {}),
                do { local (@ARGV, $/) = ($err->filename); <> } // '');
    };
    my $part = File::Temp->new;
    print $part 'p' x 100_000;
    close $part;

    # a multipart upload in the store with one part: its id
    my $started = sub {
        my ($key, $complete) = @_;
        my (undef, $j, $err) = $s3api->('create-multipart-upload', '--bucket', 'videos-raw',
                                        '--key', $key, '--content-type', 'video/mp4');
        my $upload = $j->{UploadId} // die "create-multipart-upload: $err";
        (undef, $j, $err) = $s3api->('upload-part', '--bucket', 'videos-raw', '--key', $key,
                                     '--upload-id', $upload, '--part-number', 1,
                                     '--body', $part->filename);
        my $etag = $j->{ETag} // die "upload-part: $err";
        if ($complete) {
            my $f = File::Temp->new;
            print $f qq({"Parts":[{"PartNumber":1,"ETag":$etag}]});
            close $f;
            my ($rc, undef, $e) = $s3api->('complete-multipart-upload', '--bucket', 'videos-raw',
                                           '--key', $key, '--upload-id', $upload,
                                           '--multipart-upload', 'file://' . $f->filename);
            die "complete-multipart-upload: $e" if $rc;
        }
        return $upload;
    };

    my $n_mp = 0;
    # its uploads row: 10 MiB declared in two parts, expired $age s ago
    my $mp_row = sub {
        my ($upload, $age, $key) = @_;
        my $id = sprintf 'mpup%017d', $n_mp++;
        $key //= "$id/original.mp4";
        (my $u = $upload) =~ s/'/''/g;
        psql("INSERT INTO uploads (video_id, key, size, content_type, expires_at, created_at,"
             . " upload_id, part_size, part_count)"
             . " VALUES ('$id', '$key', 10485760, 'video/mp4', now() - interval '$age seconds',"
             . " now() - interval '1 day', '$u', 8388608, 2)");
        return ($id, $key);
    };

    my $used = sub { psql("SELECT used_videos || ' ' || used_bytes FROM accounts WHERE id = 'default'") };
    my $before = $used->();

    # abandoned: a part in storage
    my $abandoned_up = $started->('mpup00000000000000000/original.mp4');
    my ($mp_abandoned, $mp_abandoned_key) = $mp_row->($abandoned_up, 60);
    ok -d "$data/.uploads/$abandoned_up", 'an abandoned multipart upload has its part in the store';

    # not expired yet: left alone, and its id is no capability on another key
    my $live_up = $started->('mpup00000000000000001/original.mp4');
    my ($mp_live) = $mp_row->($live_up, -3600);
    my ($mp_stolen) = $mp_row->($live_up, 60);

    # gone from storage already (NoSuchUpload); an id that is no id at all
    my ($mp_gone) = $mp_row->('0123456789abcdef0123456789abcdef', 60);
    my ($mp_odd) = $mp_row->("../$live_up&uploadId=$live_up x", 60);

    # completed in storage, never in the database: no upload, an object
    my $done_up = $started->('mpup00000000000000005/original.mp4', 1);
    my ($mp_done, $mp_done_key) = $mp_row->($done_up, 60);
    ok object_exists($mp_done_key), 'an upload storage completed has its object';

    my ($bv, $bb) = split ' ', $before;
    is $used->(), join(' ', $bv + 6, $bb + 6 * 10485760), 'six rows: six reservations of 10 MiB';

    $mark = length worker_log();
    start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 1);
    ok wait_for(20, sub { !grep { row_exists($_) } $mp_abandoned, $mp_stolen, $mp_gone, $mp_odd, $mp_done }),
       'the sweep takes every expired multipart upload';
    ok !-e "$data/.uploads/$abandoned_up", 'the abandoned one is aborted: its parts are gone';
    my ($rc, undef, $err) = $s3api->('list-parts', '--bucket', 'videos-raw', '--key', $mp_abandoned_key,
                                     '--upload-id', $abandoned_up);
    like $err, qr/NoSuchUpload/, 'ListParts: NoSuchUpload';
    ok !object_exists($mp_abandoned_key), 'no object was made of it';
    ok !object_exists($mp_done_key), 'the object of one storage completed is removed';
    ok -d "$data/.uploads/$live_up", 'an unexpired upload is untouched by rows naming its id';
    ($rc, my $j, $err) = $s3api->('list-parts', '--bucket', 'videos-raw',
                                  '--key', 'mpup00000000000000001/original.mp4', '--upload-id', $live_up);
    is join(' ', map { "$_->{PartNumber}:$_->{Size}" } @{ $j->{Parts} // [] }), '1:100000',
       'its part still listed' or diag $err;
    ok row_exists($mp_live), 'and its row kept';
    is $used->(), join(' ', $bv + 1, $bb + 10485760), 'the account\'s counts released, but the live one\'s';
    $log = substr worker_log(), $mark;
    like $log, qr/removed 5 abandoned uploads/, 'five removed';
    unlike $log, qr/cannot remove|postgresql:/, 'NoSuchUpload is no error';
    ok stop_workers(), 'stopped';

    # storage refusing the abort: the row stays for the next sweep
    my $refused_up = $started->('mpup00000000000000006/original.mp4');
    my ($mp_refused, $mp_refused_key) = $mp_row->($refused_up, 60);
    $mark = length worker_log();
    start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 1,
                  VIDEO_WORKER_STORAGE_SECRET_KEY => 'not-the-secret');
    ok wait_for(15, sub { substr(worker_log(), $mark) =~ m{cannot remove abandoned uploads, retrying: DELETE videos-raw/\Q$mp_refused_key\E\?uploadId: HTTP 403} }),
       'an abort storage refuses is logged';
    ok row_exists($mp_refused) && -d "$data/.uploads/$refused_up", 'the row and the upload are kept';
    ok stop_workers(), 'stopped';
    start_workers(1, VIDEO_WORKER_UPLOAD_GRACE => 1);
    ok wait_for(15, sub { !row_exists($mp_refused) }), 'storage taking it again: swept';
    ok !-e "$data/.uploads/$refused_up", 'and aborted';
    ok stop_workers(), 'stopped';
}

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $nginx_log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nginx_log, qr/\[alert\]|\[emerg\]|\[crit\]|exited on signal/, 'nginx: no alerts';

done_testing;
