//! RFC 1071 Internet checksum helpers.
//!
//! Sums are kept in a wide accumulator and folded at the end; a folded sum
//! of `0xFFFF` over data that includes its checksum field means "good".

/// Ones-complement accumulation of `data` as big-endian 16-bit words onto
/// `acc` (an odd trailing byte is padded with a zero byte).  The result is
/// not folded.
pub fn sum(data: &[u8], acc: u64) -> u64 {
    let mut acc = acc;
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds an accumulator to 16 bits with end-around carry.
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// The Internet checksum of `data` (complement of the folded sum).
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}

/// Header checksum of an IPv4 header (`hdr` is exactly IHL*4 bytes), with
/// the checksum field (bytes 10..12) taken as zero.
pub fn ipv4_header_checksum(hdr: &[u8]) -> u16 {
    assert!(hdr.len() >= 20, "IPv4 header shorter than 20 bytes");
    let acc = sum(&hdr[..10], 0);
    !fold(sum(&hdr[12..], acc))
}

/// True when an IPv4 header (exactly IHL*4 bytes) carries a good checksum.
pub fn ipv4_header_ok(hdr: &[u8]) -> bool {
    fold(sum(hdr, 0)) == 0xFFFF
}

/// Unfolded sum of the TCP/IPv4 pseudo header (src, dst, 0, 6, length).
pub fn tcp_pseudo_sum(src: [u8; 4], dst: [u8; 4], seg_len: u16) -> u64 {
    let acc = sum(&src, 0);
    let acc = sum(&dst, acc);
    acc + 6 + u64::from(seg_len)
}

/// TCP checksum of `segment` (header and payload) with the checksum field
/// (bytes 16..18 of the segment) taken as zero.
pub fn tcp_checksum(src: [u8; 4], dst: [u8; 4], segment: &[u8]) -> u16 {
    assert!(
        segment.len() >= 18,
        "TCP segment too short for its checksum field"
    );
    let acc = tcp_pseudo_sum(src, dst, segment.len() as u16);
    let acc = sum(&segment[..16], acc);
    !fold(sum(&segment[18..], acc))
}

/// True when a TCP segment carries a good checksum.
pub fn tcp_checksum_ok(src: [u8; 4], dst: [u8; 4], segment: &[u8]) -> bool {
    fold(sum(segment, tcp_pseudo_sum(src, dst, segment.len() as u16))) == 0xFFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: sum of these words is 0xddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d, 0)), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56], 0)), 0x1234 + 0x5600);
    }

    #[test]
    fn ipv4_header_known_vector() {
        // Classic example header (Wikipedia "IPv4 header checksum").
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_header_checksum(&h), 0xb861);
        assert!(!ipv4_header_ok(&h));
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(ipv4_header_ok(&h));
        // The field's content does not matter to the computation.
        assert_eq!(ipv4_header_checksum(&h), 0xb861);
    }

    #[test]
    fn tcp_roundtrip() {
        let mut seg: Vec<u8> = (0..41u8).map(|i| i.wrapping_mul(37)).collect();
        let src = [10, 0, 0, 1];
        let dst = [10, 0, 0, 2];
        let c = tcp_checksum(src, dst, &seg);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
        assert!(tcp_checksum_ok(src, dst, &seg));
        seg[40] ^= 1;
        assert!(!tcp_checksum_ok(src, dst, &seg));
    }
}
