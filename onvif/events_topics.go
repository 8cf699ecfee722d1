package onvif

import "strings"

// Event topics the bridge raises (ONVIF topic namespace tns1).
const (
	// TopicSignalLoss is true while the camera delivers no frames.
	TopicSignalLoss = "tns1:VideoSource/SignalLoss"
	// TopicMotionAlarm is true while motion is detected (data item State).
	TopicMotionAlarm = "tns1:VideoSource/MotionAlarm"
	// TopicCellMotion is the same motion state as the cell motion detector rule
	// (data item IsMotion), the topic most NVRs (Frigate, Home Assistant) read.
	TopicCellMotion = "tns1:RuleEngine/CellMotionDetector/Motion"
)

// Source items of TopicCellMotion events.
const (
	// CellMotionRule is the Rule source item of TopicCellMotion events.
	CellMotionRule = "MyMotionDetectorRule"
	// AnalyticsToken is the VideoAnalyticsConfigurationToken source item of
	// TopicCellMotion events.
	AnalyticsToken = "VideoAnalyticsToken"
)

// Property operations of property events.
const (
	PropertyInitialized = "Initialized"
	PropertyChanged     = "Changed"
	PropertyDeleted     = "Deleted"
)

type simpleItem struct{ name, typ, value string }

// eventTopic describes one topic: where it sits in the topic tree, its source items
// and its boolean data item.
type eventTopic struct {
	name   string
	source []simpleItem
	data   string
}

// eventTopics is the fixed topic set.
var eventTopics = []eventTopic{
	{TopicSignalLoss, []simpleItem{{"Source", "tt:ReferenceToken", VideoSourceToken}}, "State"},
	{TopicMotionAlarm, []simpleItem{{"Source", "tt:ReferenceToken", VideoSourceToken}}, "State"},
	{TopicCellMotion, []simpleItem{
		{"VideoSourceConfigurationToken", "tt:ReferenceToken", VideoSourceConfigToken},
		{"VideoAnalyticsConfigurationToken", "tt:ReferenceToken", AnalyticsToken},
		{"Rule", "xs:string", CellMotionRule},
	}, "IsMotion"},
}

func topicByName(name string) (eventTopic, bool) {
	for _, t := range eventTopics {
		if t.name == name {
			return t, true
		}
	}
	return eventTopic{}, false
}

// matchTopic applies a topic filter: nil matches everything; each entry is a topic
// path without prefixes, optionally ending in "//." (the topic and its descendants),
// with "*" matching one segment.
func matchTopic(filter []string, topic string) bool {
	if filter == nil {
		return true
	}
	path := stripTopicPrefixes(topic)
	for _, f := range filter {
		if rest, ok := strings.CutSuffix(f, "//."); ok {
			if path == rest || strings.HasPrefix(path, rest+"/") || rest == "" {
				return true
			}
			continue
		}
		fs, ps := strings.Split(f, "/"), strings.Split(path, "/")
		if len(fs) != len(ps) {
			continue
		}
		ok := true
		for i := range fs {
			if fs[i] != "*" && fs[i] != ps[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// stripTopicPrefixes removes namespace prefixes from every segment: tns1:A/tns1:B -> A/B.
func stripTopicPrefixes(s string) string {
	segs := strings.Split(strings.TrimSpace(s), "/")
	for i, seg := range segs {
		if _, local, ok := strings.Cut(seg, ":"); ok {
			segs[i] = local
		}
	}
	return strings.Join(segs, "/")
}
