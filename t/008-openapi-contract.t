# scripts/contract.mjs, the check make test runs on every recorded answer,
# can fail: answers that keep docs/openapi.json pass, and each kind of
# drift fails it (an undeclared status, route or field, a wrong type, a
# body that is not JSON), while answers that are not JSON are only
# counted.  Needs node and node_modules (ajv), no stack.

use strict;
use warnings;
use Test::More;
use File::Temp ();
use JSON::PP ();

plan skip_all => 'no node_modules/ajv (scripts/deps.sh runs npm ci)'
    unless -d 'node_modules/ajv' && -d 'node_modules/ajv-formats';

my $json = JSON::PP->new->canonical;
my $video = {
    id => 'V1StGXR8_Z5jdHi6B-myT', title => 'a', description => undef,
    status => 'READY', visibility => 'PUBLIC', videoType => 'VOD',
    duration => 3, thumbnailUrl => '/play/V1StGXR8_Z5jdHi6B-myT/t.jpg',
    playbackUrl => 'http://127.0.0.1:8080/play/V1StGXR8_Z5jdHi6B-myT/master.m3u8',
    isLiveNow => JSON::PP::false, transcodingProgress => 100,
    playableAt => '2025-11-01T10:00:00.000Z',
    viewsToday => 0, viewsMonth => 0, viewsTotal => 1,
    createdAt => '2025-11-01T10:00:00.000Z',
    updatedAt => '2025-11-01T10:00:00.000Z', variants => [],
};
my $error = sub {
    my ($status, $code) = @_;
    return $json->encode({ success => JSON::PP::false,
                           error => { message => 'x', status => $status,
                                      code => $code } });
};

sub answer {
    my ($method, $path, $status, $body, $type) = @_;
    return $json->encode({ method => $method, path => $path,
                           status => $status,
                           content_type => $type // 'application/json',
                           defined $body ? (body => $body) : () });
}

# runs the check on these answers: (exit status, output)
sub check {
    my $log = File::Temp->new(SUFFIX => '.jsonl');
    print $log map { "$_\n" } @_;
    close $log;
    my $out = qx{node scripts/contract.mjs -q $log 2>&1};
    return ($? >> 8, $out);
}

my @good = (
    answer('GET', '/api/videos/V1StGXR8_Z5jdHi6B-myT', 200,
           $json->encode({ success => JSON::PP::true,
                           data => { video => $video } })),
    answer('GET', '/api/videos/nope', 404, $error->(404, 'NOT_FOUND')),
    answer('GET', '/api/videos/V1StGXR8_Z5jdHi6B-myT/progress', 200,
           '{"success":true,"data":{"videoId":"V1StGXR8_Z5jdHi6B-myT",'
           . '"status":"PROCESSING","progress":40,"startedAt":null,'
           . '"estimatedEnd":null,"error":null,"duration":null,'
           . '"playableAt":null}}'),
    answer('GET', '/api/live/active', 200,
           '{"success":true,"data":{"streams":[],"count":0}}'),
    answer('GET', '/api/nothing/here', 404, $error->(404, 'NOT_FOUND')),
    answer('PUT', '/api/videos/V1StGXR8_Z5jdHi6B-myT', 405,
           $error->(405, 'METHOD_NOT_ALLOWED')),
    answer('GET', '/health/', 200,
           '{"status":"ok","timestamp":"2025-11-01T10:00:00.000Z",'
           . '"version":"0.1.0","dependencies":{"postgres":"up","redis":"up"}}'),
    answer('GET', '/play/V1StGXR8_Z5jdHi6B-myT/master.m3u8', 200, undef,
           'application/vnd.apple.mpegurl'),
);
my ($rc, $out) = check(@good);
is $rc, 0, 'answers that keep the document pass' or diag $out;
like $out, qr/\b8 answers recorded, 7 JSON answers valid .* 1 not JSON \(skipped\), 0 failed/,
    'counted: 7 validated, the playlist skipped';

my %bad = (
    'an undeclared status' =>
        answer('GET', '/api/videos/nope', 418, $error->(418, 'NOT_FOUND')),
    'an undeclared status on a path not listed' =>
        answer('GET', '/api/nothing/here', 200, '{"success":true,"data":{}}'),
    'a field the schema does not have' =>
        answer('GET', '/api/live/active', 200,
               '{"success":true,"data":{"streams":[],"count":0,"x":1}}'),
    'a required field missing' =>
        answer('GET', '/api/live/active', 200,
               '{"success":true,"data":{"streams":[]}}'),
    'a wrong type' =>
        answer('GET', '/api/live/active', 200,
               '{"success":true,"data":{"streams":[],"count":"0"}}'),
    'an error code not in the envelope\'s list' =>
        answer('GET', '/api/videos/nope', 404, $error->(404, 'GONE')),
    'a body that is not JSON' =>
        answer('GET', '/api/videos/nope', 404, '{"success":'),
    'a timestamp that is not one' =>
        answer('GET', '/api/videos/V1StGXR8_Z5jdHi6B-myT', 200,
               $json->encode({ success => JSON::PP::true, data => { video =>
                   { %$video, createdAt => 'yesterday' } } })),
    'a playableAt that is not a time' =>
        answer('GET', '/api/videos/V1StGXR8_Z5jdHi6B-myT', 200,
               $json->encode({ success => JSON::PP::true, data => { video =>
                   { %$video, playableAt => JSON::PP::true } } })),
    'a progress without playableAt' =>
        answer('GET', '/api/videos/V1StGXR8_Z5jdHi6B-myT/progress', 200,
               '{"success":true,"data":{"videoId":"V1StGXR8_Z5jdHi6B-myT",'
               . '"status":"PROCESSING","progress":40,"startedAt":null,'
               . '"estimatedEnd":null,"error":null,"duration":null}}'),
);
for my $what (sort keys %bad) {
    ($rc, $out) = check(@good, $bad{$what});
    is $rc, 1, "$what fails the check";
    like $out, qr/\b1 failed\b.*^FAIL \(1x\)/ms, 'naming the answer';
}

done_testing;
