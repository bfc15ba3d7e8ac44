package oktatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The emulator's side of JWS: verifying client assertions and DPoP proofs
// (RFC 7515, RFC 7518 algorithms RS256 and ES256/384/512, RFC 7638 JWK
// thumbprints for DPoP token binding).

var b64 = base64.RawURLEncoding

// jwt is a parsed compact JWS.
type jwt struct {
	header map[string]any
	claims map[string]any
	input  string // header.payload
	sig    []byte
}

func parseJWT(s string) (*jwt, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	var t jwt
	for i, dst := range []*map[string]any{&t.header, &t.claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("JWS part %d is not base64url", i+1)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("JWS part %d is not JSON", i+1)
		}
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("the JWS signature is not base64url")
	}
	t.input, t.sig = parts[0]+"."+parts[1], sig
	return &t, nil
}

func (t *jwt) str(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

func (t *jwt) num(name string) int64 {
	f, _ := t.claims[name].(float64)
	return int64(f)
}

// verify checks the signature with pub, under the header's alg.
func (t *jwt) verify(pub crypto.PublicKey) error {
	alg := t.str(t.header, "alg")
	var h crypto.Hash
	switch alg {
	case "RS256", "ES256":
		h = crypto.SHA256
	case "ES384":
		h = crypto.SHA384
	case "ES512":
		h = crypto.SHA512
	default:
		return fmt.Errorf("alg %q is not accepted", alg)
	}
	var digest []byte
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384([]byte(t.input))
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(t.input))
		digest = d[:]
	default:
		d := sha256.Sum256([]byte(t.input))
		digest = d[:]
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(alg, "RS") {
			return errors.New("alg does not match the RSA key")
		}
		if rsa.VerifyPKCS1v15(k, h, digest, t.sig) != nil {
			return errors.New("bad signature")
		}
		return nil
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		if !strings.HasPrefix(alg, "ES") || len(t.sig) != 2*n {
			return errors.New("alg or signature size does not match the EC key")
		}
		r, s := new(big.Int).SetBytes(t.sig[:n]), new(big.Int).SetBytes(t.sig[n:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("bad signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported key %T", pub)
}

// jwkKey reads the public key of a JWK (a DPoP proof's jwk header) and
// returns it with its RFC 7638 thumbprint.
func jwkKey(v any) (crypto.PublicKey, string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", errors.New("the jwk header is missing")
	}
	get := func(k string) string { s, _ := m[k].(string); return s }
	if get("d") != "" {
		return nil, "", errors.New("the jwk header holds a private key")
	}
	dec := func(k string) []byte { b, _ := b64.DecodeString(get(k)); return b }
	var canon string
	var pub crypto.PublicKey
	switch get("kty") {
	case "EC":
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[get("crv")]
		if curve == nil {
			return nil, "", errors.New("unsupported curve")
		}
		raw := append(append([]byte{4}, dec("x")...), dec("y")...)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, "", fmt.Errorf("bad EC jwk: %v", err)
		}
		pub = k
		canon = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, get("crv"), get("x"), get("y"))
	case "RSA":
		n, e := new(big.Int).SetBytes(dec("n")), new(big.Int).SetBytes(dec("e"))
		if n.Sign() == 0 || e.Sign() == 0 {
			return nil, "", errors.New("bad RSA jwk")
		}
		pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
		canon = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, get("e"), get("n"))
	default:
		return nil, "", errors.New("unsupported kty")
	}
	sum := sha256.Sum256([]byte(canon))
	return pub, b64.EncodeToString(sum[:]), nil
}
