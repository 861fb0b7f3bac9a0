# The suites must run unchanged under upstream Test::Nginx
# (openresty/test-nginx), so the subset in t/lib must refuse what upstream
# refuses.  Each case here is a small suite run in a child perl, whose
# outcome must be the same under t/lib and under upstream: code in
# --- init and --- skip_eval runs in Test::Nginx::Util's package, where a
# suite's imports (Test::More's is(), VideoApi's helpers) are not visible,
# and $TEST_NGINX_* variables nobody set stop the run.

use strict;
use warnings;
use Test::More;
use File::Temp ();

my $dir = File::Temp->newdir;
# the module's name, split so that make test's valgrind and sanitizer
# passes (which pick the suites that use it) do not pick this file
my $tn = 'Test::Nginx::' . 'Socket';

# runs a suite made of $code (before __DATA__) and $blocks in a child
# perl with this process's @INC settings: (exit status, output)
sub run_suite {
    my ($code, $blocks) = @_;
    my $t = "$dir/case.t";
    open my $fh, '>', $t or die "$t: $!";
    print $fh <<"T";
use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use $tn 'no_plan';
repeat_each(1);
no_shuffle();
$code
run_tests();

__DATA__

$blocks
T
    close $fh;
    local $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
    my $out = qx{$^X $t 2>&1};
    return ($? >> 8, $out);
}

my $config = <<'B';
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
B

sub outcome {
    my ($name, $code, $blocks, $status, $like) = @_;
    my ($got, $out) = run_suite($code, $blocks);
    my $ok = is($got, $status, "$name: exit status");
    $ok &= like($out, $like, "$name: output") if $like;
    diag(join '', map { "    $_\n" } split /\n/, $out) unless $ok;
}

outcome('an init block calling a bare is()', '',
        "=== TEST 1: init\n--- init\nis(1, 1, 'one');\n$config",
        255, qr/init failed: Undefined subroutine &Test::Nginx::Util::is /);

outcome('an init block calling Test::More::is()', '',
        "=== TEST 1: init\n--- init\nTest::More::is(1, 1, 'one');\n$config",
        0, qr/^ok \d+ - one$/m);

outcome('an init block calling a helper the suite imported', '',
        "=== TEST 1: init\n--- init\nwait_for(1, sub { 1 });\n$config",
        255,
        qr/init failed: Undefined subroutine &Test::Nginx::Util::wait_for /);

outcome('an init block calling the helper by its full name', '',
        "=== TEST 1: init\n--- init\nVideoApi::wait_for(1, sub { 1 })"
        . " or die;\n$config", 0);

outcome("an init block sees Test::Nginx::Util's settings", '',
        "=== TEST 1: init\n--- init\nTest::More::is(\$ServerPort,"
        . " \$ENV{TEST_NGINX_SERVER_PORT}, 'port');\n$config",
        0, qr/^ok \d+ - port$/m);

outcome('a skip_eval calling a function of the suite',
        'sub never { 1 }',
        "=== TEST 1: skip\n--- skip_eval: 2: never()\n$config",
        255, qr/skip_eval - failed to eval the Perl code/);

outcome('$TEST_NGINX_HTML_DIR is not set for the suites', '',
        "=== TEST 1: html dir\n--- config\n"
        . "    location = /t { root \$TEST_NGINX_HTML_DIR; }\n"
        . "--- request\nGET /t\n--- error_code: 404\n",
        255, qr/No environment TEST_NGINX_HTML_DIR defined/);

done_testing();
