package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startChild starts cmd as a child that gets SIGKILL when the test process
// ends, however it ends: a test binary killed by its -timeout runs no
// cleanup, and a fake camera or server left running would hold the test's
// ports (and the lock of whatever started the tests).
//
// The kernel sends that signal when the thread that started the child
// exits, not the process, and Go ends a thread whose goroutine exits
// locked to it (the network namespace helpers do). So every child is
// started from one goroutine locked to a thread it never leaves.
func startChild(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // for good: the thread lives as long as the process
			for c := range spawns {
				c.done <- c.cmd.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	done := make(chan error, 1)
	spawns <- spawn{cmd, done}
	return <-done
}

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawns    = make(chan spawn)
)

// orphanEnv makes the test binary the parent of TestChildDiesWithTestProcess
// (see runOrphanParent).
const orphanEnv = "CHINESIUM_TEST_ORPHAN_PARENT"

// runOrphanParent starts a child with startChild, then ends goroutines
// locked to their threads, as the network namespace helpers do, prints
// the child's PID and waits to be killed.
func runOrphanParent() int {
	cmd := exec.Command("sleep", "600")
	if err := startChild(cmd); err != nil {
		fmt.Println("error", err)
		return 1
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { runtime.LockOSThread() }) // the thread ends with it
	}
	wg.Wait()
	fmt.Println("child", cmd.Process.Pid)
	select {}
}

// TestChildDiesWithTestProcess: a child started with startChild outlives
// threads of the test process that end, and dies when the test process
// is killed (as by go test's -timeout), leaving nothing running.
func TestChildDiesWithTestProcess(t *testing.T) {
	t.Parallel()
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), orphanEnv+"=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("the parent printed nothing")
	}
	if _, err := fmt.Sscanf(sc.Text(), "child %d", &pid); err != nil {
		t.Fatalf("the parent printed %q", sc.Text())
	}
	if !alive(pid) {
		t.Fatal("the child died when threads of its parent ended")
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d still runs 10 s after its parent was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive tells whether process pid runs (a zombie waiting to be reaped
// does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// lowestPriority gives every thread of this process the lowest scheduling
// priority (nice 19); threads started later inherit it. An attacker
// process calls it once it is set up: on the LAN the attackers' CPU would
// not be the bridge's, so the latencies measured under attack are what
// the bridge's own work on it costs. Its setup runs at the usual priority,
// so that it does not starve while other work loads the machine.
func lowestPriority() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("threads: %w", err)
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		// A thread that ended meanwhile (ESRCH) needs nothing.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("nice thread %d: %w", tid, err)
		}
	}
	return nil
}
