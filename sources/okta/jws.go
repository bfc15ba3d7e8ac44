package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// A small JWS (RFC 7515) signer for the two JWTs Okta asks of a service
// app: the private_key_jwt client assertion and the DPoP proof. Only the
// asymmetric algorithms Okta accepts are supported: RS256 and ES256/384/512.

var b64 = base64.RawURLEncoding

// signer signs compact JWS tokens with one key.
type signer struct {
	key  crypto.Signer
	alg  string
	hash crypto.Hash
	size int // ECDSA: bytes per coordinate
}

func newSigner(key crypto.Signer) (*signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("the RSA key has %d bits; Okta requires at least 2048", k.N.BitLen())
		}
		return &signer{key: key, alg: "RS256", hash: crypto.SHA256}, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return &signer{key: key, alg: "ES256", hash: crypto.SHA256, size: 32}, nil
		case elliptic.P384():
			return &signer{key: key, alg: "ES384", hash: crypto.SHA384, size: 48}, nil
		case elliptic.P521():
			return &signer{key: key, alg: "ES512", hash: crypto.SHA512, size: 66}, nil
		}
		return nil, errors.New("the EC key's curve is not P-256, P-384 or P-521")
	}
	return nil, fmt.Errorf("%T keys are not supported; use RSA or EC", key)
}

// sign returns header.claims.signature; header gets alg added.
func (s *signer) sign(header, claims map[string]any) (string, error) {
	header["alg"] = s.alg
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode JWT header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	digest := digestOf(s.hash, []byte(input))
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, s.hash, digest)
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		r, ss, err = ecdsa.Sign(rand.Reader, k, digest)
		if err == nil {
			// JWS wants r||s at fixed width, not ASN.1 (RFC 7518 section 3.4).
			sig = make([]byte, 2*s.size)
			r.FillBytes(sig[:s.size])
			ss.FillBytes(sig[s.size:])
		}
	}
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func digestOf(h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(data)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(data)
		return d[:]
	}
	d := sha256.Sum256(data)
	return d[:]
}

// publicJWK is the signer's public key as a JWK (for the DPoP header).
func (s *signer) publicJWK() map[string]string {
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PrivateKey:
		raw, _ := k.PublicKey.Bytes() // 0x04 || X || Y
		n := (len(raw) - 1) / 2
		return map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64.EncodeToString(raw[1 : 1+n]), "y": b64.EncodeToString(raw[1+n:])}
	}
	return nil
}

// parsePrivateKey reads the app's key as Okta's console hands it out: a
// PEM block (PKCS#8, PKCS#1 or SEC 1) or a JWK with its private part. It
// returns the JWK's kid, if any.
func parsePrivateKey(s string) (crypto.Signer, string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		return parseJWK([]byte(s))
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, "", errors.New("not a PEM private key (-----BEGIN PRIVATE KEY-----) or a JWK")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("a PEM %q block is not a private key", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("the PEM private key does not parse: %v", err)
	}
	sg, ok := key.(crypto.Signer)
	if !ok {
		return nil, "", fmt.Errorf("%T keys are not supported; use RSA or EC", key)
	}
	if _, err := newSigner(sg); err != nil {
		return nil, "", err
	}
	return sg, "", nil
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	N   string `json:"n"`
	E   string `json:"e"`
	P   string `json:"p"`
	Q   string `json:"q"`
	// A JWKS wrapper: {"keys":[...]}.
	Keys []json.RawMessage `json:"keys"`
}

func parseJWK(raw []byte) (crypto.Signer, string, error) {
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, "", fmt.Errorf("the JWK is not valid JSON: %v", err)
	}
	if len(k.Keys) == 1 {
		return parseJWK(k.Keys[0])
	}
	if k.D == "" {
		return nil, "", errors.New("the JWK has no private part (d): paste the private key, not the public one")
	}
	num := func(s string) (*big.Int, error) {
		b, err := b64.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, errors.New("the JWK has a missing or malformed number")
		}
		return new(big.Int).SetBytes(b), nil
	}
	var key crypto.Signer
	switch k.Kty {
	case "RSA":
		vals := make([]*big.Int, 5)
		for i, s := range []string{k.N, k.E, k.D, k.P, k.Q} {
			v, err := num(s)
			if err != nil {
				return nil, "", err
			}
			vals[i] = v
		}
		rk := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: vals[0], E: int(vals[1].Int64())}, D: vals[2], Primes: []*big.Int{vals[3], vals[4]}}
		if err := rk.Validate(); err != nil {
			return nil, "", fmt.Errorf("the RSA JWK is inconsistent: %v", err)
		}
		rk.Precompute()
		key = rk
	case "EC":
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[k.Crv]
		if curve == nil {
			return nil, "", fmt.Errorf("the EC JWK's curve %q is not P-256, P-384 or P-521", k.Crv)
		}
		d, err := b64.DecodeString(k.D)
		if err != nil {
			return nil, "", errors.New("the EC JWK's d is malformed")
		}
		ek, err := ecdsa.ParseRawPrivateKey(curve, d)
		if err != nil {
			return nil, "", fmt.Errorf("the EC JWK does not parse: %v", err)
		}
		key = ek
	default:
		return nil, "", fmt.Errorf("the JWK's kty %q is not RSA or EC", k.Kty)
	}
	if _, err := newSigner(key); err != nil {
		return nil, "", err
	}
	return key, k.Kid, nil
}

// randomID is a jti: unique per token, as Okta checks for replays.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return b64.EncodeToString(b[:])
}
