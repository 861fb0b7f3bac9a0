# Last of the suites (prove runs them in name order): after every suite
# has made, used, revoked and mistyped API keys, no log file any of them
# left (nginx's error and access logs of every test server, the workers',
# the stack's PostgreSQL, Redis and RabbitMQ logs) holds a key, its secret
# part, or an Authorization header's value.
#
# sanitizers: no (it reads what the suites left)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Find ();

my @roots = grep { -d } (glob('t/servroot*'), $ENV{VIDEO_API_RUN_DIR} // '.run/test');
my @logs;
File::Find::find({ no_chdir => 1, wanted => sub {
    push @logs, $_ if -f $_ && /\.log\z/ && $File::Find::name !~ m{/(?:store|hls|rec|artifacts)/};
} }, @roots);

cmp_ok scalar(@logs), '>', 20, 'the suites left their logs (' . scalar(@logs) . ' files)';

my ($bytes, @found) = (0);
for my $file (@logs) {
    open my $fh, '<:raw', $file or next;
    while (my $line = <$fh>) {
        $bytes += length $line;
        if ($line =~ /vapi_[0-9A-Za-z]{20,}/
            || $line =~ /Authorization:\s*Bearer\s+\S/i
            || $line =~ /"authorization"\s*:/i)
        {
            push @found, "$file: " . substr($line, 0, 200);
        }
    }
}
diag sprintf '%d log files, %.1f MB read', scalar(@logs), $bytes / 1e6;
is scalar(@found), 0, 'no API key and no Authorization header in any log'
    or diag join "\n", @found[0 .. ($#found > 9 ? 9 : $#found)];

done_testing;
