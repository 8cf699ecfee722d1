// Command chinesium bridges IWFCam-family WiFi cameras (the "xTEG" UDP
// protocol) to standard tools.
//
// Usage:
//
//	chinesium <command> [flags] [arguments]
//
// Run "chinesium help" for the list of commands and "chinesium <command> -h"
// for the flags of one.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// commands lists the subcommands in the order "chinesium help" shows them.
// To add one, write its run function in its own file and add a line here.
func commands() []command {
	return []command{
		{"demo", "try it without a camera: two fake cameras and the full bridge, URLs printed", runDemo},
		{"serve", "run the bridge: every camera as an ONVIF device with RTSP, MJPEG and snapshots", runServe},
		{"record", "record a camera into Matroska files cut on the clock, for use without an NVR", runRecord},
		{"stream", "write a camera's video as raw MJPEG to stdout or a file", runStream},
		{"snapshot", "save one JPEG picture from a camera", runSnapshot},
		{"discover", "list the cameras that answer a broadcast", runDiscover},
		{"fakecam", "run fake cameras, for tests and trying chinesium without hardware", runFakecam},
		{"bench", "measure the bridge on this machine with fake cameras, each figure beside a baseline", runBench},
		{"config", "print an example configuration file, or check one", runConfig},
		{"version", "print the version", runVersion},
	}
}

func main() {
	// Report a closed stdout (e.g. "| head") as an error from Write instead
	// of being killed by SIGPIPE, so the command can end cleanly.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), stdoutTerminal: isTerminal(os.Stdout)}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status: 0 success,
// 1 failure, 2 bad usage.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		printUsage(e.stdout)
		return 0
	}
	if name == "-version" || name == "--version" {
		fmt.Fprintln(e.stdout, versionString())
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2 // the flag package already explained it
		}
		// The error as returned: a package's error starts with the
		// package's name, which says which part failed; a command that
		// wants other words wraps the error itself.
		fmt.Fprintf(e.stderr, "chinesium %s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(e.stderr, "chinesium: unknown command %q; run \"chinesium help\" for the list\n", name)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "chinesium bridges IWFCam-family WiFi cameras to standard tools.")
	fmt.Fprintln(w, "\nusage: chinesium <command> [flags] [arguments]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"chinesium <command> -h\" for the flags of a command.")
	fmt.Fprintln(w, "Example: chinesium stream 10.10.1.30 | ffplay -probesize 32 -f mjpeg -")
}
