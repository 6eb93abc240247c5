package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// sessionCookie is the cookie the sign-in page sets: a value derived from
// the token (not the token), HttpOnly and SameSite=Strict.
const sessionCookie = "settle_session"

// session is the cookie value of a signed-in browser.
func (s *Server) session() string {
	m := hmac.New(sha256.New, []byte(s.o.Token))
	m.Write([]byte("settle web session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// authorized reports whether r carries the token (a bearer header) or the
// session cookie; both compared in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.o.Token == "" {
		return true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.o.Token)) == 1
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session())) == 1
	}
	return false
}

// authenticate lets through requests that carry the token, and the sign-in
// page and its stylesheet. An API request without it gets 401; a page
// request is sent to sign in.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.authorized(r) || r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") || r.Method != http.MethodGet {
			w.Header().Set("WWW-Authenticate", `Bearer realm="settle"`)
			writeError(w, http.StatusUnauthorized, "", "missing or wrong token: send Authorization: Bearer TOKEN")
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login.html", &page{Title: "Sign in", Data: s.o.Token != ""})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	tok := r.PostFormValue("token")
	if s.o.Token == "" {
		http.Redirect(w, r, "/exceptions", http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.o.Token)) != 1 {
		s.render(w, http.StatusUnauthorized, "login.html", &page{Title: "Sign in", Data: true, Error: "That is not the token."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.session(), Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/exceptions", http.StatusSeeOther)
}

// checkForm parses a posted form (bounded) and checks its per-process token.
func (s *Server) checkForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.formToken)) != 1 {
		http.Error(w, "the form is stale or came from another site; reload the page and try again", http.StatusForbidden)
		return false
	}
	return true
}
