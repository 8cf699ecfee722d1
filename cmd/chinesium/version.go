package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is the release this binary was built as, set with
// go build -ldflags "-X main.version=v1.2.3". When empty, the module
// version of the build information is shown (v1.2.3 after
// "go install github.com/chinesium/chinesium/cmd/chinesium@v1.2.3",
// "(devel)" for a build from a checkout).
var version string

// versionString describes the binary: version, source revision when the
// build recorded one, Go version and platform.
func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	var details []string
	if ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(12, len(s.Value))]
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
		if rev != "" {
			details = append(details, "revision "+rev+modified)
		}
	}
	details = append(details, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return fmt.Sprintf("chinesium %s (%s)", v, strings.Join(details, ", "))
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "", "Prints the version of chinesium, the Go version and the platform.")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("version takes no arguments")
	}
	_, err = fmt.Fprintln(e.stdout, versionString())
	return err
}
