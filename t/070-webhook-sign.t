# Our Standard Webhooks signatures (src/lib/video_webhook.c, through
# build/webhook-sign) against another implementation, the reference
# library's npm package standardwebhooks (t/webhook/verify.mjs): for
# bodies of every kind (empty, unicode, JSON escapes, raw bytes, 1 MiB,
# random ones) and several secrets, the library verifies what we sign,
# we verify what it signs, and both sign alike; a tampered body, another
# secret or message id, or a timestamp out of the tolerance fails in the
# library, and in ours.  Needs node and node_modules (npm ci), no stack.
# WEBHOOK_SEED=<n> replays the random bodies of a run.
# sanitizers: yes

use strict;
use warnings;
use Test::More;
use File::Temp ();
use Encode qw(encode_utf8);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

plan skip_all => 'no node_modules/standardwebhooks (scripts/deps.sh runs npm ci)'
    unless -d 'node_modules/standardwebhooks';

my $sign = $ENV{VIDEO_API_TEST_WEBHOOK_SIGN} // 'build/webhook-sign';
my @node = ('node', 't/webhook/verify.mjs');

unless (-x $sign) {
    fail("$sign is built (make)");
    done_testing();
    exit;
}

my $seed = $ENV{WEBHOOK_SEED} // time ^ $$;
srand($seed);
note("random bodies from WEBHOOK_SEED=$seed");

# runs a command with body on stdin: (exit status, stdout and stderr)
sub run {
    my ($body, @cmd) = @_;
    my $in = File::Temp->new;
    my $out = File::Temp->new;
    binmode $in;
    print $in $body;
    close $in;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', $in->filename or exit 127;
        open STDOUT, '>', $out->filename or exit 127;
        open STDERR, '>&', \*STDOUT or exit 127;
        exec @cmd or exit 127;
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;

    open my $fh, '<', $out->filename or die "$out: $!";
    my $text = do { local $/; <$fh> } // '';
    $text =~ s/\n\z//;
    return ($rc, $text);
}

sub c_sign { run(shift, $sign, @_) }
sub c_verify { run(shift, $sign, '--verify', @_) }
sub lib_sign { run(shift, @node, 'sign', @_) }
sub lib_verify { run(shift, @node, 'verify', @_) }

sub random_bytes { join '', map { chr int rand 256 } 1 .. shift }
sub b64 { encode_base64(shift, '') }

# characters a JSON string may hold, escapes among them
my @pool = ('a' .. 'z', 'A' .. 'Z', 0 .. 9, ' ', '"', '\\', '/', "\n", "\t",
            "\r", "\x00", "\x1f", "\x7f", "\x{e9}", "\x{2603}", "\x{2028}",
            "\x{1f3ac}", "\x{4e2d}", "\x{fffd}", "\x{202e}");
my $json = JSON::PP->new->utf8->canonical;

sub random_json {
    my $len = shift;
    my $s = join '', map { $pool[int rand @pool] } 1 .. $len;
    return $json->encode({ type => 'video.ready', note => $s,
                           n => int rand 1e9 });
}

# a JSON event padded to exactly n bytes
sub sized_json {
    my $n = shift;
    my $head = '{"type":"video.ready","pad":"';
    my $tail = '"}';
    return $head . ('x' x ($n - length($head) - length($tail))) . $tail;
}

my @bodies = (
    ['empty', ''],
    ['an empty object', '{}'],
    ['an event', $json->encode({
        type => 'video.ready', timestamp => '2026-12-06T06:00:00.000Z',
        data => { video => { id => 'V1StGXR8_Z5jdHi6B-myT', title => 'a',
                             thumbnailUrl => undef, variants => [] } } })],
    ['unicode', encode_utf8(qq({"title":"vid\x{e9}o \x{2603} \x{1f3ac} )
                            . qq(\x{4e2d}\x{6587} \x{202e}rtl \x{fffd}"}))],
    ['JSON escapes', q({"s":"\"\\\\\/\b\f\n\r\t\u0000\u001f\u2028\ud83c\udfac"})],
    ['every byte value', join('', map { chr } 0 .. 255)],
    ['invalid UTF-8', "{\"s\":\"\xff\xfe\xc3\x28\xa0\xa1\"}"],
    ['CRLF and a trailing newline', "{\r\n  \"a\": 1\r\n}\n"],
    ['spaces only', '   '],
    ['1 MiB', sized_json(1 << 20)],
    # the signed message is "<id>.<timestamp>.<body>": 28 bytes and these,
    # around the 1 KiB the signer assembles on its stack
    ['995 bytes', sized_json(995)],
    ['996 bytes', sized_json(996)],
    ['997 bytes', sized_json(997)],
    (map { ["random JSON $_", random_json(int rand 3000)] } 1 .. 7),
);

my @secrets = (
    'whsec_' . b64(random_bytes(24)),
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'whsec_' . b64(random_bytes(16)),
    'whsec_' . b64(random_bytes(64)),
    b64(random_bytes(32)),
    'whsec_' . b64(random_bytes(17)),
    'whsec_' . b64(random_bytes(20)),
);

my @ids = ('msg_2ZqAbCdEfGhI', 'msg_2ZqAbCdEfGhJ', 'evt.with.dots',
           'msg_' . ('0123456789' x 25));

# -- both directions, every body ----------------------------------------------

my $i = 0;
for my $case (@bodies) {
    my ($name, $body) = @$case;
    my $secret = $secrets[$i % @secrets];
    my $id = $ids[$i % @ids];
    $i++;
    my $ts = time;

    my ($rc, $ours) = c_sign($body, $secret, $id, $ts);
    is $rc, 0, "$name: we sign";
    like $ours, qr{^v1,[A-Za-z0-9+/]{43}=$}, "$name: one v1 entry";

    my ($lrc, $out) = lib_verify($body, $secret, $id, $ts, $ours);
    is $lrc, 0, "$name: the library verifies our signature" or diag $out;

    my $theirs;
    ($rc, $theirs) = lib_sign($body, $secret, $id, $ts);
    is $theirs, $ours, "$name: the library signs alike";

    ($rc, $out) = c_verify($body, $secret, $id, $ts, $theirs);
    is $rc, 0, "$name: we verify the library's signature" or diag $out;
}

# -- what the library refuses -------------------------------------------------

my ($secret, $other) = @secrets[0, 2];
my $id = $ids[0];
my $event = $bodies[2][1];
my $big = $bodies[9][1];
my $now = time;
my ($rc, $out, $sig);

sub refused {
    my ($what, $want, $body, @args) = @_;
    my ($rc, $out) = lib_verify($body, @args);
    is $rc, 1, "the library refuses $what";
    like $out, $want, "... as $what";
}

(undef, $sig) = c_sign($event, $secret, $id, $now);

(my $tampered = $event) =~ s/video\.ready/video.reaDy/;
refused('a tampered body', qr/No matching signature/, $tampered, $secret,
        $id, $now, $sig);
refused('a body one byte longer', qr/No matching signature/, "$event ",
        $secret, $id, $now, $sig);
refused('an empty body', qr/No matching signature/, '', $secret, $id, $now,
        $sig);
refused('another secret', qr/No matching signature/, $event, $other, $id,
        $now, $sig);
refused('another message id', qr/No matching signature/, $event, $secret,
        $ids[1], $now, $sig);
refused('another timestamp', qr/No matching signature/, $event, $secret, $id,
        $now - 1, $sig);

(undef, my $big_sig) = c_sign($big, $secret, $id, $now);
my $big_tampered = $big;
substr($big_tampered, length($big) >> 1, 1) = 'y';
refused('1 MiB with one byte changed', qr/No matching signature/,
        $big_tampered, $secret, $id, $now, $big_sig);

(undef, $sig) = c_sign($event, $secret, $id, $now - 600);
refused('a timestamp 10 minutes old', qr/too old/, $event, $secret, $id,
        $now - 600, $sig);
(undef, $sig) = c_sign($event, $secret, $id, $now + 600);
refused('a timestamp 10 minutes ahead', qr/too new/, $event, $secret, $id,
        $now + 600, $sig);

# inside the tolerance, and among other entries

(undef, $sig) = c_sign($event, $secret, $id, $now - 240);
($rc, $out) = lib_verify($event, $secret, $id, $now - 240, $sig);
is $rc, 0, 'the library takes a timestamp 4 minutes old' or diag $out;
($rc, $out) = lib_verify($event, $secret, $id, $now - 240,
                         "v1,bm90IGEgc2lnbmF0dXJl $sig v2,xyz");
is $rc, 0, 'the library finds our entry among others' or diag $out;

# -- what we refuse of the library's ------------------------------------------

(undef, $sig) = lib_sign($event, $secret, $id, $now);
($rc) = c_verify($tampered, $secret, $id, $now, $sig);
is $rc, 1, 'we refuse the library\'s signature of another body';
($rc) = c_verify($event, $other, $id, $now, $sig);
is $rc, 1, 'we refuse it under another secret';
(my $v2 = $sig) =~ s/^v1,/v2,/;
($rc) = c_verify($event, $secret, $id, $now, $v2);
is $rc, 1, 'we refuse it as another version';
($rc, $out) = c_verify($event, $secret, $id, $now, "v1,bad $sig");
is $rc, 0, 'we find it among other entries' or diag $out;

(undef, $sig) = lib_sign($event, $secret, $id, $now - 600);
($rc) = c_verify($event, $secret, $id, $now - 600, $sig);
is $rc, 1, 'we refuse a timestamp 10 minutes old';
(undef, $sig) = lib_sign($event, $secret, $id, $now + 600);
($rc) = c_verify($event, $secret, $id, $now + 600, $sig);
is $rc, 1, 'we refuse a timestamp 10 minutes ahead';

# a secret neither takes

($rc, $out) = c_sign($event, 'whsec_c2hvcnQ=', $id, $now);
is $rc, 2, 'we refuse a secret of 5 bytes';
unlike $out, qr/c2hvcnQ/, '... and do not print it';

done_testing();
