package camsession_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/camsession/fakecam"
	"github.com/chinesium/chinesium/internal/testutil"
)

// discoverPort keeps this test's broadcasts away from other tests' cameras,
// which answer on 10104.
const discoverPort = 10304

func TestDiscoverFakeCameras(t *testing.T) {
	t.Parallel()
	var want []camsession.Found
	for i, discovery := range []bool{true, true, true, false} {
		ip := netip.AddrFrom4([4]byte{127, 0, 3, byte(200 + i)})
		cam, err := fakecam.New(fakecam.Config{IP: ip, ControlPort: discoverPort, Discovery: discovery})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Go(t, cam.Run)
		if discovery {
			want = append(want, camsession.Found{IP: ip, Name: cam.Name(), DataPort: uint16(cam.DataPort())})
		}
	}
	// Listed out of order on purpose: the result must be sorted.
	slices.Reverse(want)
	slices.SortFunc(want, func(a, b camsession.Found) int { return a.IP.Compare(b.IP) })

	start := time.Now()
	got, err := camsession.Discover(context.Background(), netip.MustParseAddrPort("127.255.255.255:10304"), 700*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 700*time.Millisecond || el > 2*time.Second {
		t.Errorf("Discover took %v with a 700ms timeout", el)
	}
	// Each camera answered at least twice (the probe is repeated); still one
	// entry per IP, and the camera without discovery is absent.
	if !slices.Equal(got, want) {
		t.Fatalf("Discover = %+v\nwant %+v", got, want)
	}
}

func TestDiscoverNothing(t *testing.T) {
	t.Parallel()
	got, err := camsession.Discover(context.Background(), netip.MustParseAddrPort("127.255.255.255:10305"), 300*time.Millisecond)
	if err != nil || len(got) != 0 {
		t.Fatalf("Discover with no cameras = %v, %v", got, err)
	}
}

func TestDiscoverCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := camsession.Discover(ctx, netip.MustParseAddrPort("127.255.255.255:10306"), time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancelled Discover returned after %v", el)
	}
}

func TestDiscoverBadInput(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		timeout time.Duration
	}{
		{"[::1]:10104", time.Second},
		{"127.255.255.255:0", time.Second},
		{"127.255.255.255:10104", 0},
	} {
		if _, err := camsession.Discover(context.Background(), netip.MustParseAddrPort(tc.addr), tc.timeout); err == nil {
			t.Errorf("Discover(%s, %v) accepted", tc.addr, tc.timeout)
		}
	}
}
