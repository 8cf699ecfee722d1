package onvif

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checked returns st as loaded from a file with everything dropped that
// the requests that set it would have refused, and repairs extended by
// one sentence per thing dropped. A state file is input like any request:
// it may have been edited by hand, written by another version, or
// tampered with, and must not let in what ONVIF clients cannot (a user
// without a password, a thousand profiles).
func (st State) checked(repairs []string) (State, []string) {
	drop := func(format string, args ...any) { repairs = append(repairs, fmt.Sprintf(format, args...)) }

	if st.DiscoveryMode != NonDiscoverable && st.DiscoveryMode != Discoverable {
		if st.DiscoveryMode != "" {
			drop("discovery mode %q is neither %s nor %s: %s", st.DiscoveryMode, Discoverable, NonDiscoverable, Discoverable)
		}
		st.DiscoveryMode = Discoverable
	}

	var scopes []string
	for _, sc := range st.Scopes {
		switch {
		case !validScope(sc):
			drop("dropped the malformed scope %q", sc)
		case slices.Contains(scopes, sc):
			drop("dropped the repeated scope %q", sc)
		case len(scopes) == MaxScopes:
			drop("dropped the scope %q beyond the limit of %d", sc, MaxScopes)
		default:
			scopes = append(scopes, sc)
		}
	}
	st.Scopes = scopes

	if st.Hostname != "" && !validHostname(st.Hostname) {
		drop("dropped the invalid host name %q", st.Hostname)
		st.Hostname = ""
	}

	var users []User
	for _, u := range st.Users {
		switch {
		case !validUser(u):
			drop("dropped user %q: %s", u.Name, userProblem(u))
		case slices.ContainsFunc(users, func(x User) bool { return x.Name == u.Name }):
			drop("dropped the second user named %q", u.Name)
		case len(users) == MaxUsers:
			drop("dropped user %q beyond the limit of %d users", u.Name, MaxUsers)
		default:
			users = append(users, u)
		}
	}
	st.Users = users

	var profiles []Profile
	over := 0
	for _, p := range st.Profiles {
		switch {
		case !validProfile(p):
			drop("dropped the malformed profile %q (%q)", p.Token, p.Name)
		case slices.ContainsFunc(profiles, func(x Profile) bool { return x.Token == p.Token }):
			drop("dropped the second profile with token %q", p.Token)
		case len(profiles) == MaxProfiles:
			over++
		default:
			profiles = append(profiles, p)
		}
	}
	if over > 0 {
		drop("dropped %d profiles beyond the limit of %d", over, MaxProfiles)
	}
	st.Profiles = profiles

	for _, token := range slices.Sorted(maps.Keys(st.VideoEncoders)) {
		if token != JPEGEncoderToken && token != H264EncoderToken {
			drop("dropped the settings of the unknown video encoder %q", token)
			delete(st.VideoEncoders, token)
		} else if problem := encoderProblem(st.VideoEncoders[token], token == H264EncoderToken); problem != "" {
			drop("reset video encoder %q to its defaults: %s", token, problem)
			delete(st.VideoEncoders, token)
		}
	}
	if len(st.VideoEncoders) == 0 {
		st.VideoEncoders = nil
	}
	return st, repairs
}

// validScope is what AddScopes and SetScopes accept.
func validScope(sc string) bool {
	return sc != "" && len(sc) <= maxScopeLen && !strings.ContainsAny(sc, " \t\r\n") && strings.Contains(sc, ":")
}

// userProblem says why validUser refuses u.
func userProblem(u User) string {
	switch {
	case u.Name == "" || len(u.Name) > MaxUserNameLength:
		return "no name, or a name too long"
	case u.Password == "":
		return "empty password"
	case len(u.Password) > MaxPasswordLength:
		return "password too long"
	}
	return fmt.Sprintf("level %q", u.Level)
}

// validProfile is what CreateProfile and the Add/Remove configuration
// operations can produce.
func validProfile(p Profile) bool {
	if !validToken(p.Token) || p.Name == "" || len(p.Name) > 64 {
		return false
	}
	for _, t := range []string{p.VideoSource, p.VideoEncoder, p.AudioSource, p.AudioEncoder} {
		if t != "" && !validToken(t) {
			return false
		}
	}
	return true
}

// encoderProblem says why SetVideoEncoderConfiguration would refuse s, ""
// when it would not.
func encoderProblem(s VideoEncoderSettings, h264 bool) string {
	switch {
	case len(s.Name) > 64:
		return "name too long"
	case s.FrameRateLimit != 0 && (s.FrameRateLimit < 1 || s.FrameRateLimit > MaxFPS):
		return fmt.Sprintf("frame rate %d out of range", s.FrameRateLimit)
	case s.BitrateLimit != 0 && (!h264 || s.BitrateLimit < MinH264Bitrate || s.BitrateLimit > MaxH264Bitrate):
		return fmt.Sprintf("bitrate %d", s.BitrateLimit)
	case s.GovLength != 0 && (!h264 || s.GovLength < minGov || s.GovLength > maxGov):
		return fmt.Sprintf("GOV length %d", s.GovLength)
	case s.H264Profile != "" && (!h264 || !slices.Contains(H264Profiles, s.H264Profile)):
		return fmt.Sprintf("H.264 profile %q", s.H264Profile)
	}
	return ""
}
