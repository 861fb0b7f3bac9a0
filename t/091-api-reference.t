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
use JSON::PP ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};
plan skip_all => 'no /usr/bin/chromium (scripts/deps.sh installs it)'
    unless -x '/usr/bin/chromium';
plan skip_all => 'no node_modules (scripts/deps.sh runs npm ci)'
    unless -d "$ENV{PWD}/node_modules/playwright-core"
        && -d "$ENV{PWD}/node_modules/swagger-ui-dist";

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

my $node;
END {
    kill 'TERM', $node if $node;
    stack_cmd('stop', 'nginx') if $run;
}

system('rm', '-rf', $run);
my ($rc, $out) = stack_cmd('start', 'nginx');
is $rc, 0, 'the shipped configuration starts' or diag $out;
ok wait_for(20, sub { (http_request($base, 'GET', '/health'))[0] == 200 }),
    'and is healthy';

my $json = JSON::PP->new;
my $asserted = 0;
{
    local $ENV{BASE_URL} = "http://127.0.0.1:$base";
    local $ENV{ARTIFACTS} = "$run/artifacts";
    $node = open(my $fh, '-|', 'node', 't/web/api-reference.mjs')
        or die "node: $!";
    local $SIG{ALRM} = sub { kill 'TERM', $node };
    alarm 240;
    while (my $line = <$fh>) {
        chomp $line;
        my $r = $line =~ /^\{/ ? eval { $json->decode($line) } : undef;
        if (ref $r eq 'HASH' && exists $r->{ok} && defined $r->{name}) {
            ok($r->{ok}, $r->{name}) or diag($r->{diag} // '');
            $asserted++;
        } else {
            note($line);
        }
    }
    alarm 0;
    close $fh;
    is $?, 0, 't/web/api-reference.mjs ran to its end';
    undef $node;
}
cmp_ok $asserted, '>=', 8, 'and made its assertions';

done_testing;
