//! Shamir secret sharing over GF(2^8) as sops uses it (HashiCorp Vault's scheme): every part is
//! the secret's length plus one byte, its x coordinate.

use crate::error::Error;

fn mult(mut a: u8, mut b: u8) -> u8 {
    // Carry-less multiplication reduced by the AES polynomial x^8 + x^4 + x^3 + x + 1.
    let mut r = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    r
}

fn inverse(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8).
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e != 0 {
        if e & 1 != 0 {
            result = mult(result, base);
        }
        base = mult(base, base);
        e >>= 1;
    }
    result
}

/// Rebuilds the secret from at least the threshold number of parts.
pub fn combine(parts: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let invalid = |r: &str| Error::InvalidMetadata(format!("shamir parts: {r}"));
    if parts.len() < 2 {
        return Err(invalid("less than two parts"));
    }
    let len = parts[0].len();
    if len < 2 || parts.iter().any(|p| p.len() != len) {
        return Err(invalid("parts have different or too short lengths"));
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(invalid("duplicate part"));
        }
    }
    let mut secret = vec![0u8; len - 1];
    for (idx, byte) in secret.iter_mut().enumerate() {
        // Lagrange interpolation at x = 0; addition and subtraction are XOR.
        let mut acc = 0u8;
        for (i, part) in parts.iter().enumerate() {
            let mut basis = 1u8;
            for (j, xj) in xs.iter().enumerate() {
                if i != j {
                    basis = mult(basis, mult(*xj, inverse(xs[i] ^ xj)));
                }
            }
            acc ^= mult(part[idx], basis);
        }
        *byte = acc;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits like Vault: a random polynomial per byte with the secret as constant term.
    fn split(secret: &[u8], coeffs: &[u8], xs: &[u8]) -> Vec<Vec<u8>> {
        xs.iter()
            .map(|&x| {
                let mut part: Vec<u8> = secret
                    .iter()
                    .map(|&s| {
                        // s + c1*x + c2*x^2 ...
                        let mut y = s;
                        let mut xp = 1u8;
                        for &c in coeffs {
                            xp = mult(xp, x);
                            y ^= mult(c, xp);
                        }
                        y
                    })
                    .collect();
                part.push(x);
                part
            })
            .collect()
    }

    #[test]
    fn multiplication_has_inverses_for_every_nonzero_element() {
        for a in 1..=255u8 {
            assert_eq!(mult(a, inverse(a)), 1, "{a}");
        }
        // Known AES field product: 0x57 * 0x83 = 0xc1 (FIPS-197 section 4.2).
        assert_eq!(mult(0x57, 0x83), 0xc1);
    }

    #[test]
    fn any_threshold_subset_of_parts_recombines_to_the_secret() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let parts = split(secret, &[0x11, 0xa7], &[5, 77, 200]);
        assert_eq!(combine(&parts).unwrap(), secret);
        assert_eq!(
            combine(&[parts[0].clone(), parts[2].clone(), parts[1].clone()]).unwrap(),
            secret
        );
        let two = split(secret, &[0x42], &[9, 31]);
        assert_eq!(combine(&two).unwrap(), secret);
    }

    #[test]
    fn duplicate_or_single_parts_are_rejected() {
        let parts = split(b"k", &[3], &[1, 1]);
        assert!(combine(&parts).is_err());
        assert!(combine(&parts[..1]).is_err());
    }
}
