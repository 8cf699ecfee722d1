package rtsp

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pion/sdp/v3"
)

// buildSDP describes the target's stream (RFC 4566, RFC 2326 Appendix C):
// an aggregate control URL, the video track as trackID=0 and, when the
// camera has audio, the PCMU track as trackID=1. Learning the H.264
// parameter sets may run ffmpeg; ctx (the server's) cuts that short.
func (s *Server) buildSDP(ctx context.Context, t target, local net.Addr) ([]byte, error) {
	ip := "0.0.0.0"
	if ta, ok := local.(*net.TCPAddr); ok && ta.IP.To4() != nil {
		ip = ta.IP.String()
	}
	d := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: "-", SessionID: uint64(time.Now().UnixNano()), SessionVersion: 1,
			NetworkType: "IN", AddressType: "IP4", UnicastAddress: ip,
		},
		SessionName: sdp.SessionName(t.path.name + " " + t.media.String()),
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "0.0.0.0"},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		Attributes: []sdp.Attribute{
			sdp.NewAttribute("tool", serverName),
			sdp.NewAttribute("range", "npt=now-"),
			sdp.NewAttribute("control", "*"),
		},
	}
	video := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "video", Port: sdp.RangedPort{Value: 0}, Protos: []string{"RTP", "AVP"}},
	}
	switch t.media {
	case kindJPEG:
		video.MediaName.Formats = []string{"26"}
		video.Attributes = append(video.Attributes, sdp.NewAttribute("rtpmap", "26 JPEG/90000"))
	case kindH264:
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		sps, pps, err := t.path.h264.parameterSets(pctx)
		if err != nil {
			return nil, err
		}
		if len(sps) < 4 {
			return nil, fmt.Errorf("%w: short SPS", ErrNoH264)
		}
		pt := strconv.Itoa(payloadTypeH264)
		video.MediaName.Formats = []string{pt}
		video.Attributes = append(video.Attributes,
			sdp.NewAttribute("rtpmap", pt+" H264/90000"),
			sdp.NewAttribute("fmtp", pt+" packetization-mode=1;profile-level-id="+hex.EncodeToString(sps[1:4])+
				";sprop-parameter-sets="+base64.StdEncoding.EncodeToString(sps)+","+base64.StdEncoding.EncodeToString(pps)))
	}
	video.Attributes = append(video.Attributes, sdp.NewAttribute("control", "trackID=0"))
	d.MediaDescriptions = append(d.MediaDescriptions, video)
	if t.path.audio != nil {
		d.MediaDescriptions = append(d.MediaDescriptions, &sdp.MediaDescription{
			MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: 0}, Protos: []string{"RTP", "AVP"}, Formats: []string{"0"}},
			Attributes: []sdp.Attribute{
				sdp.NewAttribute("rtpmap", "0 PCMU/8000"),
				sdp.NewAttribute("control", "trackID=1"),
			},
		})
	}
	return d.Marshal()
}
