//! The RSS hash (part of the contract: the driver predicts the queue of a
//! flow it opens, the model and the RTL compute the same).
//!
//! The Toeplitz hash.
//!
//! The 40-byte key is a big-endian bit string: for input bit `i` (bit 7 of
//! byte 0 first), the 32-bit window of the key starting at key bit `i` is
//! XORed into the result when that input bit is set.

use crate::{NUM_QUEUES, RSS_KEY_BYTES, RSS_TABLE_ENTRIES};

/// Toeplitz hash of `input` (network byte order) under `key`.  Inputs longer
/// than `RSS_KEY_BYTES - 4` bytes would run off the key; the bits past the
/// key's end are taken as zero.
pub fn toeplitz(key: &[u8; RSS_KEY_BYTES], input: &[u8]) -> u32 {
    let mut result = 0u32;
    // 64-bit sliding window: the top 32 bits are the key window at the
    // current input bit.
    let mut window: u64 = u64::from(u32::from_be_bytes([key[0], key[1], key[2], key[3]])) << 32
        | u64::from(u32::from_be_bytes([key[4], key[5], key[6], key[7]]));
    let mut next = 8usize;
    for (n, &byte) in input.iter().enumerate() {
        for bit in (0..8).rev() {
            if byte >> bit & 1 == 1 {
                result ^= (window >> 32) as u32;
            }
            window <<= 1;
        }
        // After every 4 input bytes, refill the low 32 bits of the window.
        if n % 4 == 3 {
            let mut w = [0u8; 4];
            for (i, b) in w.iter_mut().enumerate() {
                *b = key.get(next + i).copied().unwrap_or(0);
            }
            window |= u64::from(u32::from_be_bytes(w));
            next += 4;
        }
    }
    result
}

/// Hash input for an IPv4 TCP segment: src ip, dst ip, src port, dst port.
pub fn tuple4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&src);
    b[4..8].copy_from_slice(&dst);
    b[8..10].copy_from_slice(&sport.to_be_bytes());
    b[10..12].copy_from_slice(&dport.to_be_bytes());
    b
}

/// Hash input for other IPv4 frames: src ip, dst ip.
pub fn tuple2(src: [u8; 4], dst: [u8; 4]) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0..4].copy_from_slice(&src);
    b[4..8].copy_from_slice(&dst);
    b
}

const _: () = assert!(NUM_QUEUES.is_power_of_two());

/// The RX queue of a frame with RSS hash `hash`: indirection-table entry
/// `hash mod RSS_TABLE_ENTRIES`, of which only the bits naming a queue count.
pub fn queue_of(hash: u32, table: &[u8; RSS_TABLE_ENTRIES]) -> usize {
    usize::from(table[hash as usize % RSS_TABLE_ENTRIES]) & (NUM_QUEUES - 1)
}

/// The indirection table the driver programs to spread flows over the
/// first `queues` queues: entry `i` is `i mod queues`.
pub fn spread_table(queues: u32) -> [u8; RSS_TABLE_ENTRIES] {
    let mut t = [0u8; RSS_TABLE_ENTRIES];
    for (i, e) in t.iter_mut().enumerate() {
        *e = (i as u32 % queues.max(1)) as u8;
    }
    t
}

/// The Microsoft RSS verification key.
pub const MS_VERIFICATION_KEY: [u8; RSS_KEY_BYTES] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Independent bit-by-bit reference: key bit k is bit (7 - k%8) of byte k/8.
    fn naive(key: &[u8; 40], input: &[u8]) -> u32 {
        let key_bit = |k: usize| -> u32 {
            if k / 8 < key.len() {
                u32::from(key[k / 8] >> (7 - k % 8) & 1)
            } else {
                0
            }
        };
        let mut r = 0u32;
        for i in 0..input.len() * 8 {
            if input[i / 8] >> (7 - i % 8) & 1 == 1 {
                let mut w = 0u32;
                for j in 0..32 {
                    w = w << 1 | key_bit(i + j);
                }
                r ^= w;
            }
        }
        r
    }

    // (destination, dst port, source, src port, IPv4 only, IPv4 with TCP),
    // from "Verifying the RSS Hash Calculation" (Microsoft).
    type Vector = ([u8; 4], u16, [u8; 4], u16, u32, u32);
    const VECTORS: [Vector; 5] = [
        (
            [161, 142, 100, 80],
            1766,
            [66, 9, 149, 187],
            2794,
            0x323e8fc2,
            0x51ccc178,
        ),
        (
            [65, 69, 140, 83],
            4739,
            [199, 92, 111, 2],
            14230,
            0xd718262a,
            0xc626b0ea,
        ),
        (
            [12, 22, 207, 184],
            38024,
            [24, 19, 198, 95],
            12898,
            0xd2d0a5de,
            0x5c2b394a,
        ),
        (
            [209, 142, 163, 6],
            2217,
            [38, 27, 205, 30],
            48228,
            0x82989176,
            0xafc7327f,
        ),
        (
            [202, 188, 127, 2],
            1303,
            [153, 39, 163, 191],
            44251,
            0x5d1809c5,
            0x10e828a2,
        ),
    ];

    #[test]
    fn microsoft_ipv4_vectors() {
        let k = &MS_VERIFICATION_KEY;
        for (dst, dport, src, sport, h2, h4) in VECTORS {
            assert_eq!(
                toeplitz(k, &tuple2(src, dst)),
                h2,
                "2-tuple {src:?}->{dst:?}"
            );
            assert_eq!(
                toeplitz(k, &tuple4(src, dst, sport, dport)),
                h4,
                "4-tuple {src:?}->{dst:?}"
            );
            assert_eq!(naive(k, &tuple2(src, dst)), h2);
            assert_eq!(naive(k, &tuple4(src, dst, sport, dport)), h4);
        }
    }

    #[test]
    fn matches_naive_on_pseudo_random_inputs() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        };
        for _ in 0..200 {
            let mut key = [0u8; 40];
            key.iter_mut().for_each(|b| *b = next());
            let n = next() as usize % 41;
            let input: Vec<u8> = (0..n).map(|_| next()).collect();
            assert_eq!(toeplitz(&key, &input), naive(&key, &input));
        }
    }

    #[test]
    fn zero_key_gives_zero() {
        assert_eq!(toeplitz(&[0; 40], &[0xff; 12]), 0);
    }
}
