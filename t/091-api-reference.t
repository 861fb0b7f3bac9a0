# The API reference page (www/api.html) with conf/nginx.conf as `make run`
# renders and starts it: Swagger UI, served from node_modules, renders the
# API's OpenAPI document (/api/openapi.json) in headless Chromium with every
# operation, under the page's Content-Security-Policy and with no console
# error (t/web/api-reference.mjs).  The document itself is checked by
# scripts/openapi.sh and scripts/contract.mjs; t/007 checks how it is served.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};
need_browsers(qw(playwright-core swagger-ui-dist));

my $base = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 35;
my $run = "$ENV{PWD}/t/servroot-api-ref";
my %env = (VIDEO_API_RUN_DIR => $run, VIDEO_API_HTTP_PORT => $base,
           VIDEO_API_RTMP_PORT => $base + 1, VIDEO_API_STORE_PORT => $base + 2,
           VIDEO_API_PG_PORT => $ENV{TEST_NGINX_PG_PORT},
           VIDEO_API_REDIS_PORT => $ENV{TEST_NGINX_REDIS_PORT});

sub stack_cmd {
    local @ENV{keys %env} = values %env;
    my $out = qx{scripts/stack.sh @_ 2>&1};
    return ($? >> 8, $out);
}

END {
    stack_cmd('stop', 'nginx') if $run;
}

system('rm', '-rf', $run);
my ($rc, $out) = stack_cmd('start', 'nginx');
is $rc, 0, 'the shipped configuration starts' or diag $out;
ok wait_for(20, sub { (http_request($base, 'GET', '/health'))[0] == 200 }),
    'and is healthy';

browser_suite('t/web/api-reference.mjs', deadline => 240, least => 8,
              env => {BASE_URL => "http://127.0.0.1:$base", ARTIFACTS => "$run/artifacts"},
              artifacts => "$run/artifacts");

done_testing;
