module github.com/chinesium/chinesium

go 1.26.0

require (
	github.com/beevik/etree v1.8.1
	github.com/google/uuid v1.6.0
	github.com/gorilla/mux v1.8.1
	github.com/pion/rtcp v1.2.20
	github.com/pion/sdp/v3 v3.0.20
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)

require github.com/pion/randutil v0.1.0 // indirect
