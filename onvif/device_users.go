package onvif

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
)

// The device service's user operations, on the device's Store.

func (s *deviceService) getUsers(context.Context, *soap.Request) (*etree.Element, error) {
	resp := response("tds:GetUsersResponse")
	user := func(name, level string) {
		u := add(resp, "tds:User")
		add(u, "tt:Username", name)
		add(u, "tt:UserLevel", level) // passwords are never returned
	}
	for _, u := range s.d.Store.Configured() {
		user(u.Name, u.Level)
	}
	for _, u := range s.d.Store.Get().Users {
		user(u.Name, u.Level)
	}
	return resp, nil
}

// userArgs parses the tt:User children of a CreateUsers or SetUser
// request, checking lengths and levels with the ONVIF subcodes.
func userArgs(body *etree.Element, needPassword bool) ([]User, error) {
	var users []User
	for _, e := range children(body, "User") {
		name, _ := childText(e, "Username")
		pass, hasPass := childText(e, "Password")
		level, _ := childText(e, "UserLevel")
		switch {
		case name == "":
			return nil, soap.InvalidArgVal("empty user name", "UsernameTooShort")
		case len(name) > MaxUserNameLength:
			return nil, soap.InvalidArgVal("user name too long", "UsernameTooLong")
		case len(pass) > MaxPasswordLength:
			return nil, soap.InvalidArgVal("password too long", "PasswordTooLong")
		case (needPassword || hasPass) && pass == "":
			return nil, soap.InvalidArgVal("empty password", "PasswordTooWeak")
		case level == "Anonymous":
			return nil, soap.OperationProhibited("anonymous users are not supported", "AnonymousNotAllowed")
		case level != LevelAdministrator && level != LevelOperator && level != LevelUser:
			return nil, soap.InvalidArgVal(fmt.Sprintf("user level %q not supported", level))
		}
		users = append(users, User{Name: name, Password: pass, Level: level})
	}
	if len(users) == 0 {
		return nil, soap.InvalidArgs("no User")
	}
	return users, nil
}

// userFault maps Store errors to the faults of the user operations.
func userFault(err error) error {
	switch {
	case errors.Is(err, ErrUserExists):
		return soap.OperationProhibited("user name already exists", "UsernameClash")
	case errors.Is(err, ErrTooManyUsers):
		return soap.Action("too many users", "TooManyUsers")
	case errors.Is(err, ErrUnknownUser):
		return soap.InvalidArgVal("no such user", "UsernameMissing")
	case errors.Is(err, ErrFixedUser):
		return soap.InvalidArgVal("a configured user cannot be changed", "FixedUser")
	case errors.Is(err, ErrBadUser):
		return soap.InvalidArgVal("invalid user")
	}
	return err
}

func (s *deviceService) createUsers(_ context.Context, r *soap.Request) (*etree.Element, error) {
	users, err := userArgs(r.Body, true)
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.CreateUsers(users); err != nil {
		return nil, userFault(err)
	}
	return response("tds:CreateUsersResponse"), nil
}

func (s *deviceService) deleteUsers(_ context.Context, r *soap.Request) (*etree.Element, error) {
	var names []string
	for _, c := range children(r.Body, "Username") {
		names = append(names, strings.TrimSpace(c.Text()))
	}
	if len(names) == 0 {
		return nil, soap.InvalidArgs("no Username")
	}
	if err := s.d.Store.DeleteUsers(names); err != nil {
		return nil, userFault(err)
	}
	return response("tds:DeleteUsersResponse"), nil
}

func (s *deviceService) setUser(_ context.Context, r *soap.Request) (*etree.Element, error) {
	users, err := userArgs(r.Body, false)
	if err != nil {
		return nil, err
	}
	if err := s.d.Store.SetUsers(users); err != nil {
		if errors.Is(err, ErrFixedUser) {
			return nil, soap.OperationProhibited("a configured user cannot be changed", "FixedUser")
		}
		return nil, userFault(err)
	}
	return response("tds:SetUserResponse"), nil
}
