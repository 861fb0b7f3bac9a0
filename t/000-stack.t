# The stack `make test` starts: PostgreSQL with the migrations of conf/sql
# applied once each, recorded in schema_migrations.

use strict;
use warnings;
use Test::More;

my $conninfo = $ENV{TEST_NGINX_PG_CONNINFO}
    or plan skip_all => 'no PostgreSQL configured (run it through make test)';

sub psql {
    my ($sql) = @_;
    my $out = qx{psql "$conninfo" -XAtq -v ON_ERROR_STOP=1 -c "$sql" 2>&1};
    is $? >> 8, 0, "psql: $sql" or diag $out;
    chomp $out;
    return $out;
}

my @files = sort map { m{([^/]+)\.sql$} } glob 'conf/sql/[0-9]*.sql';
ok @files >= 1, 'conf/sql has migrations';

my @versions = split /\n/,
    psql('SELECT version FROM schema_migrations ORDER BY version');
my @expected = map { /^(\d+)/ ? $1 : $_ } @files;
my @recorded = map { /^(\d+)/ ? $1 : $_ } @versions;
is_deeply \@recorded, \@expected, 'every migration is recorded once, in order';

is psql("SELECT enum_range(NULL::video_status)::text"),
    '{PENDING,PROCESSING,READY,FAILED,LIVE}', 'video_status has the API labels';
is psql("SELECT enum_range(NULL::video_visibility)::text"),
    '{PUBLIC,UNLISTED,PRIVATE}', 'video_visibility has the API labels';
is psql("SELECT enum_range(NULL::video_type)::text"),
    '{VOD,LIVE}', 'video_type has the API labels';

my $again = qx{scripts/stack.sh migrate 2>&1};
is $? >> 8, 0, 'migrate runs again' or diag $again;
like $again, qr/nothing to apply/, 'a second migrate applies nothing';
is psql('SELECT count(*) FROM schema_migrations'), scalar(@files),
    'and records nothing twice';

done_testing;
