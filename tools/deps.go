//go:build deps

// Package tools pins modules that packages under construction import, so
// that `go mod tidy` keeps them while those packages are written.
package tools

import (
	_ "github.com/beevik/etree"
	_ "github.com/google/uuid"
	_ "github.com/gorilla/mux"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "golang.org/x/net/ipv4"
)
