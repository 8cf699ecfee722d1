package main

import (
	"context"
	"fmt"

	"github.com/chinesium/chinesium/config"
)

const configHelp = `
chinesium config example
    prints a configuration file with every key, its default and what it
    does, ready to edit: chinesium config example > chinesium.yaml
chinesium config check [-config FILE]
    reads the file and the CHINESIUM_* environment variables as serve would
    and says what is wrong, or how many cameras it would serve.

Precedence, lowest first: defaults, the file, CHINESIUM_* environment
variables (CHINESIUM_ and the key in capitals, e.g.
CHINESIUM_LISTEN_RTSP_PORT; CHINESIUM_CAMERAS, CHINESIUM_USER and
CHINESIUM_PASSWORD as shorthands), flags.`

func runConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "config", "example | check [-config FILE]", configHelp)
	file := fs.String("config", "", "YAML configuration `file` to check")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("say what to do: chinesium config example, or chinesium config check -config FILE")
	}
	switch pos[0] {
	case "example":
		if *file != "" {
			return usagef("config example takes no -config")
		}
		_, err := e.stdout.Write(config.Example())
		return err
	case "check":
		cfg, err := loadConfig(config.Default(), config.Sources{File: *file, Environ: e.environ},
			func(w string) { fmt.Fprintln(e.stderr, "warning:", w) })
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "configuration OK: %d camera(s), %d user(s)\n", len(cfg.Cameras), len(cfg.Users))
		return err
	}
	return usagef("unknown config command %q: use example or check", pos[0])
}
