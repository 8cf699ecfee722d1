package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/chinesium/chinesium/camsession"
)

// env is what a command may use of the process: its output streams and
// environment variables.
type env struct {
	stdout io.Writer
	stderr io.Writer
	// environ is the process's environment (os.Environ()).
	environ []string
	// stdoutTerminal is true when stdout is a terminal, where binary output
	// would only garble the screen.
	stdoutTerminal bool
}

var (
	// errHelp: the user asked for -h; the usage was printed, exit 0.
	errHelp = errors.New("help requested")
	// errUsage: bad flags; the flag package printed the problem, exit 2.
	errUsage = errors.New("bad usage")
)

// usageError is a wrong command line: printed, and the exit status is 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// flagSet is a command's flags plus the -v every command has.
type flagSet struct {
	*flag.FlagSet
	verbose *bool
}

// newFlags makes the flag set of a command; synopsis and text are printed
// above the flag defaults by -h.
func newFlags(e *env, name, synopsis, text string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: chinesium %s %s\n\n%s\n\nflags:\n", name, synopsis, strings.TrimSpace(text))
		fs.PrintDefaults()
	}
	return &flagSet{FlagSet: fs, verbose: fs.Bool("v", false, "log debug details to stderr")}
}

// parse parses flags placed before, between or after the positional
// arguments (as in "chinesium stream 10.10.1.30 -o out.mjpeg") and returns
// the positional ones.
func (fs *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// logger returns the command's logger: text to stderr, debug with -v.
func (fs *flagSet) logger(e *env) *slog.Logger {
	level := slog.LevelInfo
	if *fs.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

// cameraArg takes the single IP argument of a command.
func cameraArg(cmd string, pos []string) (netip.Addr, error) {
	if len(pos) != 1 {
		return netip.Addr{}, usagef("give exactly one camera IP, e.g. chinesium %s 10.10.1.30 (chinesium discover lists cameras)", cmd)
	}
	return parseCameraIP(cmd, pos[0])
}

// parseCameraIP checks that s is a usable camera IPv4 address.
func parseCameraIP(cmd, s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	ip = ip.Unmap()
	if err != nil || !ip.Is4() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, usagef("invalid camera IP %q: give the camera's IPv4 address, e.g. chinesium %s 10.10.1.30 (chinesium discover lists cameras)", s, cmd)
	}
	return ip, nil
}

// localFlags are the flags choosing the session's local address.
type localFlags struct {
	ip   *string
	port *int
}

func addLocalFlags(fs *flagSet) localFlags {
	return localFlags{
		ip:   fs.String("local-ip", "", "local IPv4 address to receive on, written into the login (default: the address that routes to the camera)"),
		port: fs.Int("local-port", 0, "local UDP port (0 = first free from 41773 upward, stable across restarts; -1 = any)"),
	}
}

// config fills the local address of a session configuration.
func (l localFlags) config(cfg *camsession.Config) error {
	if *l.ip != "" {
		ip, err := netip.ParseAddr(*l.ip)
		if err != nil || !ip.Unmap().Is4() || ip.IsUnspecified() {
			return usagef("invalid -local-ip %q: give an IPv4 address of this machine", *l.ip)
		}
		cfg.LocalIP = ip.Unmap()
	}
	if *l.port < -1 || *l.port > 65535 {
		return usagef("-local-port must be -1, 0 or a port number")
	}
	cfg.LocalPort = *l.port
	return nil
}
