package onvif

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
)

// The device service's scopes and discovery mode, which WS-Discovery
// announces.

func (s *deviceService) getScopes(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetScopesResponse")
	scope := func(def, item string) {
		sc := add(resp, "tds:Scopes")
		add(sc, "tt:ScopeDef", def)
		add(sc, "tt:ScopeItem", item)
	}
	for _, sc := range s.d.FixedScopes() {
		scope("Fixed", sc)
	}
	for _, sc := range s.d.Store.Get().Scopes {
		scope("Configurable", sc)
	}
	return resp, nil
}

// scopeArgs returns the trimmed scope URIs of the named children, checking
// each is a plausible URI.
func scopeArgs(body *etree.Element, name string) ([]string, error) {
	var out []string
	for _, c := range children(body, name) {
		sc := strings.TrimSpace(c.Text())
		if !validScope(sc) {
			return nil, soap.InvalidArgVal(fmt.Sprintf("invalid scope %q", sc))
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, soap.InvalidArgs("no " + name)
	}
	return out, nil
}

func (s *deviceService) isFixed(scope string) bool {
	for _, f := range s.d.FixedScopes() {
		if f == scope {
			return true
		}
	}
	return false
}

// setScopes replaces the configurable scopes. Scopes equal to a fixed one
// are already present and are left out; fixed scopes are never touched.
func (s *deviceService) setScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "Scopes")
	if err != nil {
		return nil, err
	}
	var next []string
	for _, sc := range scopes {
		if !s.isFixed(sc) && !slices.Contains(next, sc) {
			next = append(next, sc)
		}
	}
	if len(next) > MaxScopes {
		return nil, soap.Action("too many scopes", "TooManyScopes")
	}
	if err := s.d.Store.Update(func(st *State) error { st.Scopes = next; return nil }); err != nil {
		return nil, fmt.Errorf("set scopes: %w", err)
	}
	return response("tds:SetScopesResponse"), nil
}

func (s *deviceService) addScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "ScopeItem")
	if err != nil {
		return nil, err
	}
	errTooMany := errors.New("too many scopes")
	err = s.d.Store.Update(func(st *State) error {
		for _, sc := range scopes {
			if !s.isFixed(sc) && !slices.Contains(st.Scopes, sc) {
				st.Scopes = append(st.Scopes, sc)
			}
		}
		if len(st.Scopes) > MaxScopes {
			return errTooMany
		}
		return nil
	})
	switch {
	case errors.Is(err, errTooMany):
		return nil, soap.Action("too many scopes", "TooManyScopes")
	case err != nil:
		return nil, fmt.Errorf("add scopes: %w", err)
	}
	return response("tds:AddScopesResponse"), nil
}

func (s *deviceService) removeScopes(_ context.Context, r *soap.Request) (*etree.Element, error) {
	scopes, err := scopeArgs(r.Body, "ScopeItem")
	if err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		if s.isFixed(sc) {
			return nil, soap.OperationProhibited("fixed scope "+sc+" cannot be removed", "FixedScope")
		}
	}
	var missing string
	err = s.d.Store.Update(func(st *State) error {
		for _, sc := range scopes {
			i := slices.Index(st.Scopes, sc)
			if i < 0 {
				missing = sc
				return errors.New("no such scope")
			}
			st.Scopes = append(st.Scopes[:i], st.Scopes[i+1:]...)
		}
		return nil
	})
	if missing != "" {
		return nil, soap.InvalidArgVal("no scope "+missing, "NoScope")
	}
	if err != nil {
		return nil, fmt.Errorf("remove scopes: %w", err)
	}
	resp := response("tds:RemoveScopesResponse")
	for _, sc := range scopes {
		add(resp, "tds:ScopeItem", sc)
	}
	return resp, nil
}

func (s *deviceService) getDiscoveryMode(context.Context, *soap.Request) (*etree.Element, error) {
	mode := s.d.Store.Get().DiscoveryMode
	if mode != NonDiscoverable {
		mode = Discoverable
	}
	resp := response("tds:GetDiscoveryModeResponse")
	add(resp, "tds:DiscoveryMode", mode)
	return resp, nil
}

func (s *deviceService) setDiscoveryMode(_ context.Context, r *soap.Request) (*etree.Element, error) {
	mode, _ := childText(r.Body, "DiscoveryMode")
	if mode != Discoverable && mode != NonDiscoverable {
		return nil, soap.InvalidArgVal(fmt.Sprintf("DiscoveryMode %q is neither Discoverable nor NonDiscoverable", mode))
	}
	if err := s.d.Store.Update(func(st *State) error { st.DiscoveryMode = mode; return nil }); err != nil {
		return nil, fmt.Errorf("set discovery mode: %w", err)
	}
	return response("tds:SetDiscoveryModeResponse"), nil
}
