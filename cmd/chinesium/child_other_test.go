//go:build !linux

package main

import "os/exec"

// startChild starts cmd (see the Linux version: elsewhere a child may
// outlive a test binary killed by its timeout).
func startChild(cmd *exec.Cmd) error { return cmd.Start() }

// orphanEnv is only used on Linux.
const orphanEnv = "CHINESIUM_TEST_ORPHAN_PARENT"

func runOrphanParent() int { return 1 }

// lowestPriority does nothing here (see the Linux version).
func lowestPriority() error { return nil }
