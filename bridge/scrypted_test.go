package bridge

import (
	"encoding/json"
	"testing"
)

// scryptedEncoder is an encoder configuration as Scrypted's client (the
// npm onvif package) reads it.
type scryptedEncoder struct {
	Token          string  `json:"token"`
	Encoding       string  `json:"encoding"`
	Quality        float64 `json:"quality"`
	FrameRateLimit int     `json:"frameRateLimit"`
	BitrateLimit   int     `json:"bitrateLimit"`
	GovLength      int     `json:"govLength"`
	Profile        string  `json:"profile"`
}

// scryptedResult is what test/e2e/scrypted_autoconfigure.js prints.
type scryptedResult struct {
	Configurable []struct {
		ID    string `json:"id"`
		Video struct {
			Codecs       []string `json:"codecs"`
			FPSRange     []int    `json:"fpsRange"`
			Resolutions  [][2]int `json:"resolutions"`
			Profiles     []string `json:"profiles"`
			BitrateRange []int    `json:"bitrateRange"`
		} `json:"video"`
	} `json:"configurable"`
	Sent []struct {
		Op       string `json:"op"`
		Token    string `json:"token"`
		Encoding string `json:"encoding"`
	} `json:"sent"`
	Errors   []string                   `json:"errors"`
	ReadBack map[string]json.RawMessage `json:"readBack"`
}

// TestScryptedAutoConfigure runs Scrypted's ONVIF auto configure (its
// plugin's code, with the npm onvif package it uses) against a camera: it
// finds the H.264 profile configurable, sets 640x480, 20 fps, 512 kbit/s,
// a GOV of 80 frames and the Main profile, and G.711 audio under its RTP
// name PCMU, then reads the options. Nothing may fail, and every Get must
// read back what was set.
func TestScryptedAutoConfigure(t *testing.T) {
	t.Parallel()
	node := needOnvifNPM(t)
	_, c := startCamera(t, "127.0.23.2", nil)

	var res scryptedResult
	runNodeJSON(t, node, "scrypted_autoconfigure.js", "scrypted", c, &res)
	if len(res.Errors) > 0 {
		t.Errorf("Scrypted reports: %v", res.Errors)
	}
	var sentVideo, sentAudio bool
	for _, s := range res.Sent {
		sentVideo = sentVideo || s.Op == "SetVideoEncoderConfiguration" && s.Token == "h264_enc"
		sentAudio = sentAudio || s.Op == "SetAudioEncoderConfiguration" && s.Encoding == "PCMU"
	}
	if !sentVideo || !sentAudio {
		t.Fatalf("Scrypted did not configure the H.264 encoder and the audio: %+v", res.Sent)
	}
	want := scryptedEncoder{Token: "h264_enc", Encoding: "H264", Quality: 80, FrameRateLimit: 20, BitrateLimit: 512, GovLength: 80, Profile: "Main"}
	for _, get := range []string{"GetProfiles", "GetVideoEncoderConfigurations", "GetVideoEncoderConfiguration"} {
		var encs []scryptedEncoder
		if err := json.Unmarshal(res.ReadBack[get], &encs); err != nil {
			t.Fatalf("%s: %v", get, err)
		}
		found := false
		for _, e := range encs {
			if e.Token == want.Token {
				found = true
				if e != want {
					t.Errorf("%s reads %+v, Scrypted set %+v", get, e, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s", get, want.Token)
		}
	}
	var audio []struct {
		Encoding   string `json:"encoding"`
		Bitrate    int    `json:"bitrate"`
		SampleRate int    `json:"sampleRate"`
	}
	if err := json.Unmarshal(res.ReadBack["audio"], &audio); err != nil || len(audio) != 1 || audio[0].Encoding != "G711" || audio[0].Bitrate != 64 || audio[0].SampleRate != 8 {
		t.Errorf("audio encoder after PCMU: %s", res.ReadBack["audio"])
	}
	// What Scrypted set is served: its frame-rate limit is above the
	// camera's 15 fps, so every frame; the rest goes to the transcode.
	if v := c.bridge.rtsp; v != nil {
		s, _ := v.VideoSettings(c.Path, "h264")
		if s.FrameRateLimit != 20 || s.BitrateKbps != 512 || s.GOP != 80 || s.H264Profile != "Main" || s.CBR {
			t.Errorf("RTSP H.264 settings %+v", s)
		}
	}
}
