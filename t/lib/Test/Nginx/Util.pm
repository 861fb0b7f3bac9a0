package Test::Nginx::Util;

# Minimal stand-in for the nginx-management half of Test::Nginx
# (openresty/test-nginx).  It only exists so the suites can run where the
# real module is not installed; the .t files are written against upstream,
# so defaults, environment variables and the generated nginx.conf follow
# upstream's behaviour.  Deliberate differences are marked "DEVIATION".

use strict;
use warnings;

use Carp ();
use Exporter 'import';
use File::Path qw(make_path remove_tree);
use File::Spec ();
use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Time::HiRes qw(sleep);
use IO::Socket::INET ();
use Test::More ();

our @EXPORT = qw(
    repeat_each no_shuffle no_long_string no_root_location master_on
    master_off master_process_enabled workers worker_connections log_level
    env_to_nginx config_preamble timeout server_addr server_name server_port
    server_port_for_client server_root html_dir check_accum_error_log
    add_block_preprocessor add_cleanup_handler bail_out parse_time trim
    expand_env_in_text setup_server_root write_user_files write_config_file
    error_log_data access_log_data get_nginx_version

    $RepeatEach $NoShuffle $NoLongString $ServerAddr $ServerPort
    $ServerPortForClient $ServRoot $HtmlDir $ErrLogFile $StderrFile
    $ErrLogFilePos @BlockPreprocessors
);

# The variables above are exported for reading (and plain assignment).
# Anything that needs "local" must be named fully qualified, because local
# on an imported alias would not affect this package's copy.

# ---- settings (same names, env vars and defaults as upstream) ----------

our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString;
our $NoRootLocation       = 0;
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled        = 'on';
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT}
                            || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $UseValgrind          = $ENV{TEST_NGINX_USE_VALGRIND};
our $LoadModules          = $ENV{TEST_NGINX_LOAD_MODULES};
our $EventType            = $ENV{TEST_NGINX_EVENT_TYPE};
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $ConfigPreamble       = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;

our $NginxBinary;         # set below, once find_in_path exists

our $ServRoot = $ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# Where the nginx command's own stderr goes (startup errors are reported
# from here) and where valgrind writes its findings.
our $StderrFile   = "$LogDir/nginx.stderr";
our $ValgrindFile = "$LogDir/valgrind.log";

# valgrind needs nginx in the foreground so it can be watched and stopped
# per block, exactly as upstream arranges it.
$DaemonEnabled = 'off' if $UseValgrind;

our $ErrLogFilePos = 0;
our $ChildPid;            # nginx (under valgrind) running in the foreground
our ($NginxVersion, $NginxRawVersion, $NginxConfigureArgs);

# ---- code from the blocks ------------------------------------------------

# --- init and --- skip_eval code runs here, in this package, as upstream
# runs it: the suite's own imports (Test::More's is() and ok(), a helper
# module's functions) are not visible, so such code names them in full
# (Test::More::is), and a suite that forgets fails here as it would under
# upstream.  For the same reason this file's own helpers below are lexical
# (my sub): upstream has no such names, so code must not find them here.
# Returns what the code returns, with $@ set on failure.
sub eval_block_code ($$) {
    my ($block, $code) = @_;
    my $name = $block->name;
    return eval $code;
}

# ---- exported knobs ------------------------------------------------------

sub repeat_each (@) { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub html_dir () { $HtmlDir }
sub server_root () { $ServRoot }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub workers (@)                { $Workers = shift if @_; $Workers }
sub worker_connections (@)     { $WorkerConnections = shift if @_;
                                 $WorkerConnections }
sub log_level (@)              { $LogLevel = shift if @_; $LogLevel }
sub timeout (@)                { $Timeout = shift if @_; $Timeout }
sub server_addr (@)            { $ServerAddr = shift if @_; $ServerAddr }
sub server_name (@)            { $ServerName = shift if @_; $ServerName }
sub server_port (@)            { $ServerPort = shift if @_; $ServerPort }
sub server_port_for_client (@) { $ServerPortForClient = shift if @_;
                                 $ServerPortForClient }

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v\n")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# ---- small helpers -------------------------------------------------------

my sub find_in_path {
    my $cmd = shift;
    return (-f $cmd && -x _) ? $cmd : undef if $cmd =~ m{/};
    for my $dir (split /:/, $ENV{PATH} || '') {
        next if $dir eq '';
        return "$dir/$cmd" if -f "$dir/$cmd" && -x _;
    }
    return undef;
}

# Upstream looks "nginx" up in PATH; /usr/sbin is often missing from a
# non-root PATH on Debian, so fall back to the packaged binary.
$NginxBinary = $ENV{TEST_NGINX_BINARY} || find_in_path('nginx')
               || '/usr/sbin/nginx';

# "100ms" and "2s" are accepted, as upstream does.
sub parse_time ($) {
    my $tm = shift;
    return $tm unless defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm /= 1000;
    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

# Poll instead of sleeping a fixed time: returns as soon as $cond holds,
# false once the deadline passes.
my sub wait_for ($$) {
    my ($secs, $cond) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        return 1 if $cond->();
        return 0 if Time::HiRes::time() >= $deadline;
        sleep 0.01;
    }
}

sub get_nginx_version () {
    return $NginxVersion if defined $NginxVersion;
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        bail_out("Failed to get the version of the nginx binary "
                 . "\"$NginxBinary\": " . ($out // ''));
    }
    ($NginxConfigureArgs) = $out =~ /configure arguments:(.*)/;
    $NginxConfigureArgs //= '';
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s) {
        $NginxRawVersion = "$1.$2.$3";
        return $NginxVersion = sprintf "%d.%03d%03d", $1, $2, $3;
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

# $TEST_NGINX_FOO is replaced by $ENV{TEST_NGINX_FOO}; as upstream, a
# missing variable aborts the run, and $TEST_NGINX_RAND_PORT_N picks a free
# port once per block.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $val = $rand_ports->{$var} //= gen_rand_port($rand_ports);
        } else {
            bail_out("$name - No environment $var defined.\n")
                unless defined $ENV{$var};
            $val = $ENV{$var};
        }
        $val;
    }ge;
    return $text;
}

sub gen_rand_port {
    my $taken = shift;
    my %used = ($ServerPort => 1, map { $_ => 1 } values %$taken);
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => $ServerAddr,
                                         LocalPort => $port, Proto => 'tcp');
        if ($sock) {
            close $sock;
            return $port;
        }
    }
    bail_out("Cannot find an available listening port number.\n");
}

# ---- server root and nginx.conf ------------------------------------------

sub setup_server_root () {
    # Only remove what we create, so a mistaken TEST_NGINX_SERVROOT cannot
    # wipe unrelated data (upstream takes the same care).
    if (-d $ServRoot) {
        remove_tree($ConfDir, $HtmlDir, $LogDir, glob("$ServRoot/*_temp"),
                    glob("$ServRoot/*_cache"));
    }
    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        mkdir $dir or bail_out("Failed to do mkdir $dir: $!\n");
    }
    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't open $HtmlDir/index.html for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

# --- user_files: ">>> name [touch-date]" headers followed by contents.
sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name  = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type for --- user_files: ", ref $files);
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1);
        }
        $body = expand_env_in_text($body // '', $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system("TZ=GMT touch -t '$date' '$path'") == 0
                or bail_out("$name - failed to touch $path\n");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config, $name,
                                         $rand_ports) // '';
    my $main_config = expand_env_in_text($block->main_config, $name,
                                         $rand_ports) // '';
    my $post_main_config = expand_env_in_text($block->post_main_config,
                                              $name, $rand_ports) // '';
    my $server_name = $block->server_name // $ServerName;
    $config //= '';

    # Upstream puts the load_module lines at the head of main_config;
    # first in the file reads the same to nginx.
    my $modules = join '', map { "load_module $_;\n" }
                           grep { length } split /\s+/, $LoadModules // '';

    # Temp paths inside servroot, as upstream (0.33) does, unless the
    # block sets its own.
    my $temp_paths = '';
    for my $kind (qw(client_body proxy fastcgi uwsgi scgi)) {
        my $directive = "${kind}_temp_path";
        next if $http_config =~ /\b\Q$directive\E\b/
             || $config =~ /\b\Q$directive\E\b/;
        next if $kind ne 'client_body'
             && ($NginxConfigureArgs // '') =~ /--without-http_${kind}_module/;
        $temp_paths .= "    $directive $ServRoot/${kind}_temp;\n";
    }

    my $env = '';
    # The same default pass-through list as upstream.
    for my $v (qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN
                  MOCKEAGAIN_WRITE_TIMEOUT_PATTERN LD_PRELOAD LD_LIBRARY_PATH
                  DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE ASAN_OPTIONS
                  MOCKNOEAGAIN_VERBOSE MOCKNOEAGAIN), @EnvToNginx)
    {
        $env .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $events_use = $EventType ? "    use $EventType;\n" : '';
    my $user = $> == 0 ? "user root;\n" : '';
    (my $quoted_server_name = $server_name) =~ s/(['\\])/\\$1/g;

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out <<"_EOC_";
${modules}worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $LogLevel;
pid       $PidFile;
$env
$main_config

http {
    access_log $AccLogFile;

    default_type text/plain;
    keepalive_timeout  68;
$temp_paths
$http_config

    server {
        listen          $ServerPort;
        server_name     '$quoted_server_name';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
$events_use}
$user
_EOC_
    close $out;
}

# ---- nginx process management --------------------------------------------

my sub read_pid_file () {
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> };
    close $in;
    return undef unless defined $pid && $pid =~ /(\d+)/;
    return $1;
}

# A daemonized nginx is re-parented, and in containers PID 1 may never
# reap it, so a zombie must count as "not running".
my sub pid_alive ($) {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    if (open my $st, '<', "/proc/$pid/stat") {
        my $stat = <$st> // '';
        return 0 if $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

my sub nginx_is_running () {
    if (defined $ChildPid) {
        return 0 if waitpid($ChildPid, WNOHANG) != 0;
        return 1;
    }
    return pid_alive(read_pid_file());
}

# Checking /proc avoids probe connections, which would leave their own
# lines in error.log before the block's request.
my sub port_listening ($) {
    my $port = shift;
    my $hex = sprintf ':%04X', $port;
    my $seen_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen_proc = 1;
        while (<$in>) {
            my @f = split ' ';
            return 1 if @f > 3 && $f[1] =~ /\Q$hex\E$/ && $f[3] eq '0A';
        }
    }
    return 0 if $seen_proc;
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $port, Proto => 'tcp');
    return $sock ? 1 : 0;
}

my sub slurp ($) {
    my $file = shift;
    open my $in, '<', $file or return '';
    local $/;
    my $data = <$in>;
    return $data // '';
}

my sub startup_diag () {
    my $err = slurp($StderrFile);
    my @log = split /^/, slurp($ErrLogFile);
    my @tail = grep { !/\[debug\]/ } @log;
    @tail = @tail[-20 .. -1] if @tail > 20;
    my $msg = '';
    $msg .= "nginx stderr:\n$err" if $err =~ /\S/;
    $msg .= "error.log (non-debug tail):\n" . join('', @tail) if @tail;
    if ($UseValgrind) {
        my $vg = slurp($ValgrindFile);
        $msg .= "valgrind:\n$vg" if $vg =~ /\S/;
    }
    return $msg;
}

my sub kill_pid ($$) {
    my ($pid, $name) = @_;
    my $own = defined $ChildPid && $pid == $ChildPid;
    my $gone = $own ? sub { waitpid($pid, WNOHANG) != 0 || !pid_alive($pid) }
                    : sub { !pid_alive($pid) };

    # valgrind's leak check at exit is slow, give it time.
    my $grace = $UseValgrind ? 30 : $Timeout;
    kill SIGQUIT, $pid;
    return 1 if wait_for($grace, $gone);

    warn "$name - timeout when waiting for the nginx process $pid to exit\n";
    kill SIGTERM, $pid;
    return 1 if wait_for(1, $gone);

    warn "$name - WARNING: killing the nginx process $pid with force...\n";
    kill SIGKILL, $own ? -$pid : $pid;
    kill SIGKILL, $pid;
    wait_for(2, $gone);
}

# Starts nginx with the written config.  Returns a hash: ok (bool),
# status/exit_code/coredump (of the launching command) and error (text for
# the diagnostics when it did not come up).
my sub start_nginx ($) {
    my ($name) = @_;

    my $bin = find_in_path($NginxBinary)
        or bail_out("$name - Cannot find the nginx executable "
                    . "\"$NginxBinary\"");

    my @cmd = ($bin, '-p', "$ServRoot/", '-c', $ConfFile);

    # Errors found while parsing nginx.conf are logged before the
    # configured error_log is opened.  A default build puts them into
    # <prefix>/logs/error.log, where upstream's must_die + error_log checks
    # find them; distro builds send them to stderr or /var/log.  -e restores
    # the default-build behaviour (available since nginx 1.19.5).
    push @cmd, '-e', $ErrLogFile if get_nginx_version() >= 1.019005;

    if ($UseValgrind) {
        my @opts = $UseValgrind =~ /^\d+$/
            ? (qw(--tool=memcheck --leak-check=full --show-possibly-lost=no
                  --num-callers=100 --gen-suppressions=all),
               -f 'valgrind.suppress' ? '--suppressions=valgrind.suppress'
                                      : ())
            : split(' ', $UseValgrind);
        unshift @cmd, 'valgrind', '-q', "--log-file=$ValgrindFile", @opts;
    }

    my $pid = fork;
    bail_out("$name - fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        setpgrp(0, 0);    # lets a stuck nginx be killed as a group
        # _exit skips the test framework's END blocks in this copy.
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }

    my %r = (ok => 0, cmd => "@cmd");

    if ($DaemonEnabled eq 'off') {
        # Foreground: the process stays our child until stopped.
        $ChildPid = $pid;
        my $died;
        my $up = wait_for($UseValgrind ? 60 : 10, sub {
            if (waitpid($pid, WNOHANG) != 0) {
                $died = $?;
                return 1;
            }
            return port_listening($ServerPort) && -s $PidFile;
        });
        if ($up && !defined $died) {
            $r{ok} = 1;
            return \%r;
        }
        $r{status} = $died // -1;
        kill_pid($pid, $name) unless defined $died;
        undef $ChildPid;
        $r{error} = (defined $died ? "nginx exited during startup"
                         : "nginx did not start listening on port "
                           . "$ServerPort in time")
                    . " (command: @cmd)\n" . startup_diag();
        return \%r;
    }

    # Daemon: the command returns once nginx has detached (or failed).
    my $status;
    my $exited = wait_for(10, sub {
        return 0 if waitpid($pid, WNOHANG) == 0;
        $status = $?;
        return 1;
    });
    if (!$exited) {
        kill SIGKILL, -$pid;
        waitpid($pid, 0);
        $r{status} = -1;
        $r{error} = "nginx command did not return (command: @cmd)\n"
                    . startup_diag();
        return \%r;
    }

    $r{status} = $status;
    $r{exit_code} = $status >> 8;
    $r{coredump} = $status & 128;
    if ($status != 0) {
        $r{error} = "nginx failed to start (exit code $r{exit_code}, "
                    . "command: @cmd)\n" . startup_diag();
        return \%r;
    }

    # The listening socket exists before nginx detaches, the pid file is
    # written just after; wait for both so stop_nginx can find it.
    if (!wait_for(10, sub { pid_alive(read_pid_file())
                            && port_listening($ServerPort) }))
    {
        $r{error} = "nginx started but is not running/listening on port "
                    . "$ServerPort (command: @cmd)\n" . startup_diag();
        return \%r;
    }

    $r{ok} = 1;
    return \%r;
}

my sub stop_nginx ($) {
    my ($name) = @_;
    my $pid = $ChildPid // read_pid_file();
    if ($pid && pid_alive($pid)) {
        kill_pid($pid, $name);
    }
    if (defined $ChildPid) {
        waitpid($ChildPid, WNOHANG);
        undef $ChildPid;
    }
    unlink $PidFile if -f $PidFile && !pid_alive(read_pid_file());

    if ($UseValgrind) {
        my $report = slurp($ValgrindFile);
        if ($report =~ /\S/) {
            warn "$name - valgrind report:\n$report";
        }
        unlink $ValgrindFile;
    }
}

# What Socket.pm drives nginx with, kept out of this package (see
# eval_block_code).
{
    no warnings 'once';
    *Test::Nginx::Util::Server::start_nginx = \&start_nginx;
    *Test::Nginx::Util::Server::stop_nginx = \&stop_nginx;
    *Test::Nginx::Util::Server::nginx_is_running = \&nginx_is_running;
    *Test::Nginx::Util::Server::slurp = \&slurp;
}

# ---- logs ----------------------------------------------------------------

# Lines written since the last call (for the current block), unless
# check_accum_error_log() asks for everything.
sub error_log_data () {
    # Let log-phase handlers that run after the response was sent finish.
    sleep $TestNginxSleep * 3;

    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or return [];
    my @lines = <$in>;
    close $in;
    return \@lines;
}

sub cleanup () {
    $_->() for @CleanupHandlers;
    stop_nginx('cleanup') if defined $ChildPid;
}

our $MainPid = $$;

END {
    # Only the test process itself should shut nginx down.
    if ($$ == $MainPid) {
        local $?;    # keep Test::Builder's exit status intact
        cleanup();
        stop_nginx('END') if !$ENV{TEST_NGINX_NO_CLEAN} || $UseValgrind;
    }
}

1;
