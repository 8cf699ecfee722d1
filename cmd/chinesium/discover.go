package main

import (
	"context"
	"fmt"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

func runDiscover(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "discover", "[flags]", `
Broadcasts the cameras' port request and lists the cameras that answer:
IP, name and current data port. The broadcast must reach the cameras'
network: use the subnet broadcast (e.g. 192.168.1.255:10104) on a machine
with several interfaces, and 127.255.255.255:10104 for fake cameras.`)
	bc := fs.String("broadcast", camsession.DefaultBroadcast.String(), "broadcast `address:port` to send the probe to")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to collect answers")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("discover takes no arguments (got %q); set the address with -broadcast", pos)
	}
	addr, err := netip.ParseAddrPort(*bc)
	if err != nil || !addr.Addr().Unmap().Is4() || addr.Port() == 0 {
		return usagef("invalid -broadcast %q: give an IPv4 address and port, e.g. 192.168.1.255:10104", *bc)
	}
	if *timeout <= 0 {
		return usagef("-timeout must be positive")
	}
	log := fs.logger(e)
	log.Debug("discovering", "broadcast", addr.String(), "timeout", timeout.String())
	found, err := camsession.Discover(ctx, addr, *timeout)
	if err != nil && len(found) == 0 {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("no camera answered on %v within %v: check that this machine is on the cameras' network (or their WiFi), that a firewall lets UDP 10104 through, or try the subnet broadcast with -broadcast", addr, *timeout)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tNAME\tDATA PORT")
	for _, f := range found {
		fmt.Fprintf(tw, "%v\t%s\t%d\n", f.IP, f.Name, f.DataPort)
	}
	return tw.Flush()
}
