package Test::Nginx::Socket;

# Minimal stand-in for Test::Nginx::Socket (openresty/test-nginx), covering
# the subset this project's suites use.  It is only found when t/lib is on
# @INC and the real module is not installed.  The .t files must keep
# passing under upstream, so section semantics, defaults and test names
# follow upstream; deliberate differences are marked "DEVIATION".
#
# Like upstream, the module is a Test::Base subclass: Test::Base parses
# __DATA__ into blocks, applies section filters (eval, chomp, ...) and
# handles --- ONLY / --- SKIP / --- LAST; "use Test::Nginx::Socket
# 'no_plan'" (or tests => N) is passed on to Test::More's plan.

use strict;
use warnings;

use Test::Base -base;
use Test::Nginx::Util;
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);

our $VERSION = '0.33';    # the upstream version whose semantics we follow

our @EXPORT = qw(
    run_tests run_test repeat_each no_shuffle no_long_string
    no_root_location master_on master_off master_process_enabled workers
    worker_connections log_level env_to_nginx config_preamble timeout
    server_addr server_name server_port server_port_for_client server_root
    html_dir check_accum_error_log add_block_preprocessor
    add_cleanup_handler bail_out is_str
);

# Upstream reports long string mismatches with Test::LongString; use it
# when present, plain is() otherwise.
my $HaveLongString = eval { require Test::LongString; 1 };

our $PrevConfig;

# nginx's management lives in Util.pm, outside its package namespace
*start_nginx = \&Test::Nginx::Util::Server::start_nginx;
*stop_nginx = \&Test::Nginx::Util::Server::stop_nginx;
*nginx_is_running = \&Test::Nginx::Util::Server::nginx_is_running;

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return like($got, $expected, $desc);
    }
    if ($NoLongString || !$HaveLongString) {
        return is($got, $expected, $desc);
    }
    return Test::LongString::is_string($got, $expected, $desc);
}

sub run_tests () {
    get_nginx_version();

    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    for my $block ($NoShuffle ? blocks() : shuffle blocks()) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        run_test($block);
    }

    Test::Nginx::Util::cleanup();
}

# ---- one block -----------------------------------------------------------

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    my $rand_ports = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);
    my $must_die = $block->must_die;

    my $level = $block->log_level || $Test::Nginx::Util::LogLevel;
    local $Test::Nginx::Util::LogLevel = $level;

    # As upstream, a block that must fail to start never runs under
    # valgrind; it also always uses daemon mode so that a config which
    # unexpectedly starts cannot block the run.
    my $valgrind = defined $must_die ? undef : $Test::Nginx::Util::UseValgrind;
    my $daemon = defined $must_die ? 'on' : $Test::Nginx::Util::DaemonEnabled;
    local $Test::Nginx::Util::UseValgrind = $valgrind;
    local $Test::Nginx::Util::DaemonEnabled = $daemon;

    my ($should_skip, $tests_to_skip, $skip_reason) = skip_spec($block);
    if ($should_skip && defined $tests_to_skip) {
        for (1 .. $RepeatEach) {
            Test::More->builder->skip("$name - $skip_reason")
                for 1 .. $tests_to_skip;
        }
        return;
    }

    if (!defined $config) {
        # Upstream keeps the previous block's nginx running in this case.
        bail_out("$name - No '--- config' section specified and could "
                 . "not get previous one.") unless defined $PrevConfig;
        my $err = nginx_is_running() ? undef
                : "nginx is not running (this block has no --- config, so "
                  . "the previous block's server is reused)\n";
        return run_repeats($block, $err, $rand_ports);
    }

    $PrevConfig = $config;

    stop_nginx($name);
    setup_server_root();
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    return run_must_die($block, $must_die) if defined $must_die;

    my $start = start_nginx($name);
    run_repeats($block, $start->{ok} ? undef : $start->{error}, $rand_ports);

    # Stop at the end of the block so valgrind's findings (reported on
    # exit) are attributed to the block that caused them.
    stop_nginx($name) if $Test::Nginx::Util::UseValgrind;
}

# --- must_die: the start command itself is the test, run repeat_each
# times against the same log file; the messages of the failed start are
# then checked by --- error_log / --- no_error_log.
sub run_must_die {
    my ($block, $must_die) = @_;
    my $name = $block->name;

    # Startup errors only reach error.log through "nginx -e" (see
    # start_nginx); older binaries leave them on stderr, so read that too.
    my $extra = get_nginx_version() < 1.019005;

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        my $r = start_nginx($name);
        my $status = $r->{status} // -1;

        if (!defined $r->{exit_code}) {
            fail("$name - failed to execute the nginx command line");
            diag($r->{error}) if $r->{error};
        } elsif ($r->{coredump}) {
            fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            is($must_die, $r->{exit_code},
               "$name - die with the expected exit code");
        } else {
            isnt($status, 0, "$name - die as expected");
        }

        my $ctx = {};
        if ($extra) {
            $ctx->{extra_lines} =
                [split /^/, Test::Nginx::Util::Server::slurp($StderrFile)];
        }
        check_error_log($block, $ctx, $i);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            stop_nginx($name);
        }
    }
}

sub run_repeats {
    my ($block, $start_error, $rand_ports) = @_;
    my $name = $block->name;

    if (defined $block->init) {
        Test::Nginx::Util::eval_block_code($block, $block->init);
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0;
        run_test_helper($block, $start_error, $i);
    }
}

# --- skip_eval: "N: perl-expr" and --- skip_nginx: "N: < 1.21.0 [: why]"
sub skip_spec {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $spec = $block->skip_eval)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- skip_eval spec: $spec");
        my ($n, $code) = ($1, $2);
        my $skip = Test::Nginx::Util::eval_block_code($block, $code);
        bail_out("$name - skip_eval - failed to eval the Perl code "
                 . "\"$code\": $@") if $@;
        return (1, $n, 'skip_eval') if $skip;
    }

    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ m{^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                   (?:\s*:\s*(.*))?\s*$}x
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        my ($n, $op) = ($1, $2);
        my $want = sprintf "%d.%03d%03d", $3, $4, $5;
        my $reason = $6 || "nginx version $op $3.$4.$5";
        my $have = get_nginx_version();
        my $skip = $op eq '<'  ? $have <  $want
                 : $op eq '<=' ? $have <= $want
                 : $op eq '>'  ? $have >  $want
                 :               $have >= $want;
        return (1, $n, $reason) if $skip;
    }

    return;
}

# ---- requests ------------------------------------------------------------

sub parse_more_headers {
    my $in = shift;
    my ($out, $is_chunked) = ('', 0);
    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val //= '';
        $is_chunked = 1
            if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

# "METHOD [URI [VERSION]]" on the first line, the rest is the body.  Host
# and Connection are added unless given, and so is Content-Length for a
# (then trimmed) body unless given or chunked -- all as upstream does.
sub build_request {
    my ($name, $more_headers, $is_chunked, $conn, $req) = @_;

    my ($first, $content) = ($req // '') =~ /\A([^\n]*\n?)(.*)\z/s;
    bail_out("$name - Request line should be non-empty") if $first eq '';

    $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    my ($meth, $url, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');

    my $len_header = '';
    if (!$is_chunked && $content ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        $content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: " . server_name() . "\r\n"
        if $more_headers !~ /(?:^|\n)Host:/msi;
    $headers .= "Connection: $conn\r\n"
        if $more_headers !~ /(?:^|\n)Connection/msi;

    return "$meth $url $ver\r\n$headers$more_headers$len_header\r\n$content";
}

# [method, target] of the request line a request starts with, for the
# contract log (scripts/contract.mjs); undef when there is none
sub request_target {
    my $req = shift // '';
    return $req =~ /\A\s*([A-Za-z]+) +(\S+)/ ? [$1, $2] : undef;
}

# Every answer, with VIDEO_API_CONTRACT_LOG set (t/inc/ContractLog.pm)
sub contract_record {
    my ($target, $res) = @_;
    return unless $ENV{VIDEO_API_CONTRACT_LOG} && $target && $res
                  && defined $res->code;
    if (!defined &ContractLog::record) {
        require File::Basename;
        my $inc = File::Basename::dirname(__FILE__) . '/../../../inc';
        require "$inc/ContractLog.pm";
    }
    ContractLog::record($target->[0], $target->[1], $res->code,
                        scalar $res->header('Content-Type'), $res->content);
}

# Returns a list of connections to make: { pieces => [bytes...],
# n => number of pipelined responses expected (0 for one) }.
sub get_requests {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        my $pieces = ref $raw eq 'ARRAY' ? [@$raw] : [$raw];
        return [{ pieces => $pieces, n => 0,
                  targets => [request_target(join '', @$pieces)] }];
    }

    my $more = $block->more_headers // '';
    my $headers_for = sub {
        my $i = shift;
        my $h = ref $more eq 'ARRAY' ? $more->[$i] : $more;
        bail_out("$name - --- more_headers lacks data for request $i")
            unless defined $h;
        return parse_more_headers($h);
    };

    if (defined(my $reqs = $block->pipelined_requests)) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my $all = '';
        my @targets;
        for my $i (0 .. $#$reqs) {
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            my ($hdr, $chunked) = $headers_for->($i);
            my $one = build_request($name, $hdr, $chunked, $conn,
                                    $reqs->[$i]);
            push @targets, request_target($one);
            $all .= $one;
        }
        return [{ pieces => [$all], n => scalar @$reqs,
                  targets => \@targets }];
    }

    my $request = $block->request;
    if (!ref $request) {
        # Leading blank lines and "#" comment lines are allowed.
        if (defined $request) {
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        }
        my ($hdr, $chunked) = $headers_for->(0);
        my $one = build_request($name, $hdr, $chunked, 'close', $request);
        return [{ pieces => [$one], n => 0,
                  targets => [request_target($one)] }];
    }

    bail_out("$name - invalid --- request: MUST be string or array of "
             . "requests") unless ref $request eq 'ARRAY';

    my @list;
    for my $i (0 .. $#$request) {
        # DEVIATION: upstream also accepts packet arrays here.
        bail_out("$name - only plain string requests are supported in a "
                 . "--- request array") if ref $request->[$i];
        my ($hdr, $chunked) = $headers_for->($i);
        my $one = build_request($name, $hdr, $chunked, 'close',
                                $request->[$i]);
        push @list, { pieces => [$one], n => 0,
                      targets => [request_target($one)] };
    }
    return \@list;
}

# Writes the request pieces and reads until the server closes.  The
# timeout is per wait (inactivity), like upstream.  Reading continues after
# a failed write because nginx may answer early (413) and close.
sub send_request {
    my ($block, $pieces, $timeout) = @_;
    my $name = $block->name;
    my $head_req = join('', @$pieces) =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $addr = $block->server_addr_for_client // $ServerAddr;
    my $sock;
    my $deadline = time + $timeout;
    while (1) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr,
                                      PeerPort => $ServerPortForClient,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock || time >= $deadline;
        sleep 0.05;
    }
    if (!$sock) {
        fail("$name - Can't connect to $addr:$ServerPortForClient: $! "
             . "(aborted)\n");
        return (undef, $head_req);
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @queue = @$pieces;
    my $buf = shift(@queue) // '';
    my $middle_delay = parse_time($block->raw_request_middle_delay);
    my $writing = 1;
    my $resp = '';
    my $sel = IO::Select->new($sock);

    # Moves to the next piece once the current one is written.
    my $advance = sub {
        while ($buf eq '') {
            if (!@queue) {
                $writing = 0;
                if (defined(my $how = $block->shutdown)) {
                    shutdown($sock, $how =~ /^\s*$/ ? 1 : $how);
                }
                return;
            }
            sleep $middle_delay if $middle_delay;
            $buf = shift @queue;
        }
    };
    $advance->();

    while (1) {
        $! = 0;    # so a stale EINTR cannot turn a timeout into a retry
        my ($r, $w) = IO::Select->select($sel, $writing ? $sel : undef,
                                         undef, $timeout);
        if (!$r && !$w) {
            next if $!{EINTR};
            fail("ERROR: client socket timed out - $name\n")
                unless defined $block->abort;
            last;
        }

        if ($w && @$w) {
            my $n = syswrite($sock, $buf);
            if (defined $n) {
                substr($buf, 0, $n, '');
                $advance->();
            } elsif (!($!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR})) {
                warn "$name - write failed: $!\n";
                $writing = 0;
            }
        }

        if ($r && @$r) {
            my $n = sysread($sock, my $chunk, 4096);
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                warn "WARNING: $name - HTTP response read failure: $!\n";
                last;
            }
            last if $n == 0;
            $resp .= $chunk;
        }
    }

    close $sock;
    return ($resp, $head_req);
}

# ---- responses -----------------------------------------------------------

# Returns ($res, $raw_headers, $left): the HTTP::Response with a decoded
# body, the raw header text, and bytes beyond this response (pipelining).
sub parse_response {
    my ($name, $raw, $head_req) = @_;

    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if (defined $code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    my $left;

    if (defined $enc && $enc eq 'chunked') {
        my $body = $res->content // '';
        my $decoded = '';
        while (1) {
            if ($body =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = $1 if $body =~ /\G(.+)/gcs;
                last;
            }
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                my $pos = pos $body;
                if (length($body) - $pos < $size) {
                    fail("$name - invalid chunked data received "
                         . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr $body, $pos, $size;
                pos($body) = $pos + $size;
                if ($body !~ /\G\r\n/gc) {
                    fail("$name - invalid chunked data received "
                         . "(expected CRLF).");
                    return;
                }
            } elsif ($body =~ /\G(.+)/gcs) {
                fail("$name - invalid chunked body received: $1");
                return;
            } else {
                fail("$name - no last chunk found - $body");
                return;
            }
        }
        $res->content($decoded);

    } elsif (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content // '';
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

# ---- checks --------------------------------------------------------------

# When the block cannot run (nginx did not start) its checks are reported
# as skipped, keeping the planned test count.
sub skipped {
    my ($ctx, $what) = @_;
    return 0 unless $ctx->{dry};
    Test::More->builder->skip("$what - tests skipped due to $ctx->{dry}");
    return 1;
}

# Expected values may be arrays when a block sends several requests.
sub get_indexed_value {
    my ($name, $value, $req_idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$req_idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub check_error_code {
    my ($block, $res, $ctx, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';

    if (defined $ctx->{start_error}) {
        # The one visible failure of a block whose nginx did not start.
        fail("$name - status code ok");
        diag($ctx->{start_error});
        return;
    }
    return if skipped($ctx, $name);

    if (defined $block->error_code_like) {
        my $val = get_indexed_value($name, $block->error_code_like,
                                    $req_idx, $need_array);
        like($got, qr/$val/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        is($got, get_indexed_value($name, $block->error_code, $req_idx,
                                   $need_array), "$name - status code ok");
    } else {
        is($got, 200, "$name - status code ok");
    }
}

# "Name: value" lines; "!Name" means the header must be absent.
sub parse_headers {
    my $s = shift;
    my (@order, %headers);
    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
        }
        push @order, $key unless exists $headers{$key};
        $headers{$key} = $val;
    }
    return map { [$_, $headers{$_}] } @order;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $ctx, $req_idx, $need_array) = @_;
    my $name = $block->name;

    for my $kind (qw(like unlike)) {
        my $section = "raw_response_headers_$kind";
        my $spec = $block->$section;
        next unless defined $spec;
        next if skipped($ctx, "$name - $section");
        my $pat = get_indexed_value($name, $spec, $req_idx, $need_array);
        my $cmp = $kind eq 'like' ? \&Test::More::like : \&Test::More::unlike;
        $cmp->($raw_headers // '', qr/$pat/s,
               "$name - raw resp headers $kind");
    }

    if (defined $block->response_headers) {
        my $spec = get_indexed_value($name, $block->response_headers,
                                     $req_idx, $need_array);
        for my $pair (parse_headers($spec)) {
            my ($key, $val) = @$pair;
            next if skipped($ctx, "$name - response_headers");
            if (!defined $val) {
                unlike($raw_headers // '', qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = $res ? $res->header($key) : undef;
            is($actual // '', $val, "$name - header $key ok");
        }

    } elsif (defined $block->response_headers_like) {
        my $spec = get_indexed_value($name, $block->response_headers_like,
                                     $req_idx, $need_array);
        for my $pair (parse_headers($spec)) {
            my ($key, $val) = @$pair;
            next if skipped($ctx, "$name - response_headers_like");
            my $actual = $res ? $res->header($key) : undef;
            like($actual // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub check_response_body {
    my ($block, $res, $ctx, $req_idx, $rep_idx, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $expected = get_indexed_value($name, $block->response_body,
                                         $req_idx, $need_array);
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        return if skipped($ctx, "$name - response_body");
        my $where = "(repeated req $rep_idx, req $req_idx)";
        if (ref $expected) {
            like($content, $expected, "$name - response_body - like $where");
        } else {
            is_str($content, $expected,
                   "$name - response_body - response is expected $where");
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $section = "response_body_$type";
        my $pat = get_indexed_value($name, $block->$section, $req_idx,
                                    $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $summary = trim($content) // '';
        return if skipped($ctx, "$name - response_body_$type");
        # /s as upstream: "." also matches newlines in the body.
        my $cmp = $type eq 'like' ? \&Test::More::like : \&Test::More::unlike;
        $cmp->($content, qr/$pat/s, "$name - response_body_$type - "
                                     . "response is expected ($summary)");
    }
}

# Section value -> list of patterns: one per line for plain text, or the
# string(s)/qr// given through "eval".
sub log_patterns {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return split /\n+/, $pats;
    }
    return ($pats) if ref $pats eq 'Regexp';
    return @$pats;
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub value_contains {
    my ($val, $pat) = @_;
    return 0 unless defined $val;
    return index("$val", $pat) >= 0 if !ref $val || ref $val eq 'Regexp';
    return scalar grep { value_contains($_, $pat) } @$val;
}

sub fmt_str {
    my $str = shift;
    chomp $str;
    $str =~ s/"/\\"/g;
    $str =~ s/\r/\\r/g;
    $str =~ s/\n/\\n/g;
    return $str;
}

# Shared by error.log and access.log: one test per pattern, as upstream.
sub check_log_patterns {
    my ($ctx, $name, $file, $spec, $negate, $rep_idx) = @_;
    my $lines = $ctx->{lines}{$file};
    my $section = ($negate ? 'no_' : '') . ($file eq 'error.log'
                                            ? 'error_log' : 'access_log');

    for my $pat (log_patterns($spec)) {
        next unless defined $pat;
        next if skipped($ctx, "$name - $section");
        my $p = fmt_str("$pat");
        my @hits = grep { line_matches($lines->[$_], $pat) } 0 .. $#$lines;
        if (!$negate) {
            if (@hits) {
                pass("$name - pattern \"$pat\" matches a line in $file "
                     . "(req $rep_idx)");
            } else {
                fail("$name - pattern \"$pat\" should match a line in $file "
                     . "(req $rep_idx)");
            }
        } elsif (!@hits) {
            pass("$name - pattern \"$p\" does not match a line in $file "
                 . "(req $rep_idx)");
        } else {
            # DEVIATION: upstream emits one failure per matching line; one
            # per pattern keeps planned counts stable.
            my $ln = fmt_str($lines->[$hits[0]]);
            fail("$name - pattern \"$p\" should not match any line in $file "
                 . "but matches line \"$ln\" (req $rep_idx)");
            my @ctx_lines = @{$lines}[$hits[0] + 1
                                      .. ($hits[0] + 9 < $#$lines
                                          ? $hits[0] + 9 : $#$lines)];
            diag(join '', "following lines:\n", @ctx_lines) if @ctx_lines;
        }
    }
}

sub check_error_log {
    my ($block, $ctx, $rep_idx) = @_;
    my $name = $block->name;

    my $lines;
    my $load = sub {
        $lines //= do {
            my $l = error_log_data();
            push @$l, @{ $ctx->{extra_lines} || [] };
            $l;
        };
        $ctx->{lines}{'error.log'} = $lines;
    };

    # --- grep_error_log / --- grep_error_log_out
    my $grep = $block->grep_error_log;
    $grep = $grep->[$rep_idx] if ref $grep eq 'ARRAY';
    if (defined $grep) {
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but "
                 . "--- grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$rep_idx] if ref $expected eq 'ARRAY';
        if (!skipped($ctx, "$name - error_log")) {
            $load->();
            my $out = '';
            for my $line (@$lines) {
                if (ref $grep ? $line =~ $grep : $line =~ /\Q$grep\E/) {
                    $out .= "$&\n" if $& !~ /\n/;
                }
            }
            is_str($out, $expected,
                   "$name - grep_error_log_out (req $rep_idx)");
        }
    }

    my %check = ('[alert' => 1, '[crit' => 1, '[emerg' => 1);
    for my $section (qw(error_log no_error_log)) {
        my $spec = $block->$section;
        next unless defined $spec;
        for my $lvl (keys %check) {
            $check{$lvl} = 0 if value_contains($spec, $lvl);
        }
        $load->() unless $ctx->{dry};
        check_log_patterns($ctx, $name, 'error.log', $spec,
                           $section eq 'no_error_log', $rep_idx);
    }

    return if $ctx->{dry};

    # Like upstream: surface serious messages nobody asked about, and fail
    # on assertion failures.
    $load->();
    for my $line (@$lines) {
        for my $lvl (grep { $check{$_} } keys %check) {
            warn "WARNING: $name - " . fmt_str($line) . "\n"
                if index($line, "$lvl]") >= 0;
        }
        if ($line =~ /\bAssertion .*?failed\b/) {
            (my $l = $line) =~ s/\n\z//;
            fail("$name - $l");
        }
    }
}

sub check_access_log {
    my ($block, $ctx, $rep_idx) = @_;
    my $name = $block->name;
    for my $section (qw(access_log no_access_log)) {
        my $spec = $block->$section;
        next unless defined $spec;
        $ctx->{lines}{'access.log'} //= access_log_data() unless $ctx->{dry};
        check_log_patterns($ctx, $name, 'access.log', $spec,
                           $section eq 'no_access_log', $rep_idx);
    }
}

# ---- one repetition of a block -------------------------------------------

sub run_test_helper {
    my ($block, $start_error, $rep_idx) = @_;
    my $name = $block->name;

    my $ctx = {};
    if (defined $start_error) {
        $ctx->{dry} = 'nginx failing to start';
        $ctx->{start_error} = $rep_idx == 0 ? $start_error
                            : "nginx failed to start (see above)";
    }

    my $reqs = get_requests($block);
    my $timeout = parse_time($block->timeout) // timeout();
    my $req_idx = 0;

    for my $one (@$reqs) {
        my ($raw, $head_req) = defined $start_error ? ('', 0)
            : send_request($block, $one->{pieces}, $timeout);
        my $n = $one->{n};
        my $need_array = $n ? 1 : @$reqs > 1;

        while (1) {
            $raw //= '';
            my ($res, $raw_headers, $left);

            if (!defined $block->ignore_response) {
                ($res, $raw_headers, $left) =
                    parse_response($name, $raw, $head_req);
            }

            if (!$n) {
                if (defined $left && length $left) {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/
                                         sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last "
                         . "chunk in response: \"$l\"\n";
                }
            } else {
                $raw = $left;
                $n--;
            }

            if (!defined $block->ignore_response) {
                contract_record($one->{targets}[$one->{n} - $n - 1], $res)
                    if $one->{n} && !defined $start_error;
                contract_record($one->{targets}[0], $res)
                    if !$one->{n} && !defined $start_error;
                check_error_code($block, $res, $ctx, $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $ctx,
                                       $req_idx, $need_array);
                check_response_body($block, $res, $ctx, $req_idx, $rep_idx,
                                    $need_array);
            }

            # Intermediate requests get their own log checks, as upstream.
            if ($n || $req_idx < @$reqs - 1) {
                sleep parse_time($block->wait) if $block->wait;
                check_error_log($block, { %$ctx, lines => {} }, $rep_idx);
                check_access_log($block, { %$ctx, lines => {} }, $rep_idx)
                    unless defined $block->ignore_response;
            }

            $req_idx++;
            last unless $n;
        }
    }

    sleep parse_time($block->wait) if $block->wait;
    check_error_log($block, { %$ctx, lines => {} }, $rep_idx);
    check_access_log($block, { %$ctx, lines => {} }, $rep_idx)
        unless defined $block->ignore_response;
}

1;
