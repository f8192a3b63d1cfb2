// Package auth holds the owner dashboard's accounts: staff users of a shop, their
// argon2id password hashes, browser sessions and a sign-in throttle. It talks to
// storage through Store, which orders/sqlite and orders/postgres implement on the same
// database as the orders, and reports errors as *orders.Error so that web maps them in
// its one place.
package auth

import (
	"context"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Role is what a user may do in the shop's dashboard.
type Role string

const (
	// RoleOwner may do everything, including settings, refunds and managing users.
	RoleOwner Role = "owner"
	// RoleStaff works orders day to day but cannot change settings, refund or manage
	// users: those move money or access, which stays with the owner.
	RoleStaff Role = "staff"
)

// ParseRole returns the role named s, or an EINVALID error naming field "role".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleStaff:
		return r, nil
	}
	return "", orders.Invalidf("role", "Role must be owner or staff.")
}

// Action is something a dashboard user asks to do; Can decides whether their role may.
type Action string

const (
	ActionViewOrders     Action = "view_orders"
	ActionCreateOrder    Action = "create_order"
	ActionCancelOrder    Action = "cancel_order"
	ActionShip           Action = "ship"
	ActionRefund         Action = "refund"
	ActionChangeSettings Action = "change_settings"
	ActionManageUsers    Action = "manage_users"
)

// Can reports whether the role may perform a. Unknown actions are refused, so that a
// new action is owner-only until someone decides otherwise here.
func (r Role) Can(a Action) bool {
	switch r {
	case RoleOwner:
		switch a {
		case ActionViewOrders, ActionCreateOrder, ActionCancelOrder, ActionShip,
			ActionRefund, ActionChangeSettings, ActionManageUsers:
			return true
		}
	case RoleStaff:
		switch a {
		case ActionViewOrders, ActionCreateOrder, ActionCancelOrder, ActionShip:
			return true
		}
	}
	return false
}

// User is a person who signs in to one shop's dashboard.
type User struct {
	ID     string
	ShopID string
	// Email is normalised (see NormalizeEmail) and unique within the shop.
	Email string
	Role  Role
	// PasswordHash is an argon2id PHC string (see HashPassword).
	PasswordHash string
	CreatedAt    time.Time
	// DisabledAt, when set, means the user can no longer sign in and their sessions
	// no longer work.
	DisabledAt *time.Time
}

// Can reports whether the user may perform a: an enabled user whose role allows it.
func (u *User) Can(a Action) bool {
	return u != nil && u.DisabledAt == nil && u.Role.Can(a)
}

// Session is a signed-in browser. The browser holds a random token; only its SHA-256
// is stored, so that a leaked database does not hand out working sessions.
type Session struct {
	TokenHash []byte
	ShopID    string
	UserID    string
	CreatedAt time.Time
	// LastSeenAt moves forward as the session is used; the idle timeout counts from it.
	LastSeenAt time.Time
	// ExpiresAt is the absolute end, however active the session is.
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Store persists users and sessions. Every method but SessionByTokenHash,
// UseSignInLink and the Sweeper's is scoped by shop: a row of another shop is not
// found. Stores return orders.ErrNotFound (or an
// *orders.Error with ENOTFOUND) for a missing row and an ECONFLICT *orders.Error when
// CreateUser meets an existing (shop, email).
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, shopID, id string) (*User, error)
	UserByEmail(ctx context.Context, shopID, email string) (*User, error)
	UpdatePasswordHash(ctx context.Context, shopID, id, hash string) error
	// DisableUser marks the user disabled at t and revokes their open sessions.
	DisableUser(ctx context.Context, shopID, id string, t time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash finds a session from any shop: the token is the browser's
	// only credential, and the session says which shop it belongs to.
	SessionByTokenHash(ctx context.Context, tokenHash []byte) (*Session, error)
	// TouchSession moves the session's LastSeenAt forward to t.
	TouchSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error
	// RevokeSession marks the session revoked at t; revoking twice is not an error.
	RevokeSession(ctx context.Context, shopID string, tokenHash []byte, t time.Time) error

	CreateSignInLink(ctx context.Context, l *SignInLink) error
	// UseSignInLink marks the link used at t and returns it, only if it was unused and
	// had not expired by t; otherwise it returns a not-found error. Checking and
	// marking are one statement, so a link is spent at most once.
	UseSignInLink(ctx context.Context, tokenHash []byte, t time.Time) (*SignInLink, error)

	// Sweeper deletes sessions and sign-in links long after they stopped working,
	// across all shops (see Sweep).
	Sweeper
}
