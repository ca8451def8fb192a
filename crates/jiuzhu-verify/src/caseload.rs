//! The caseload index: identity number → member → household, built once per run. Its size is
//! what bounds the matcher's memory (the feeds are streamed past it).

use jiuzhu_domain::{Area, IdNumber};

use crate::parse;

/// Dense household index inside a [`CaseloadIndex`].
pub type HouseholdIx = u32;
/// Dense member index inside a [`CaseloadIndex`].
pub type MemberIx = u32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseloadError {
    #[error("person {0} is already a member of another household")]
    DuplicateMember(String),
    #[error("household {0} appears twice")]
    DuplicateHousehold(i64),
    #[error("unknown household {0}")]
    UnknownHousehold(i64),
}

impl CaseloadError {
    pub fn code(&self) -> &'static str {
        match self {
            CaseloadError::DuplicateMember(_) => "DUPLICATE_MEMBER",
            CaseloadError::DuplicateHousehold(_) => "DUPLICATE_HOUSEHOLD",
            CaseloadError::UnknownHousehold(_) => "UNKNOWN_HOUSEHOLD",
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            CaseloadError::DuplicateMember(id) => {
                format!(
                    "人员{}已属于其他家庭",
                    jiuzhu_domain::id_number::mask_id_str(id)
                )
            }
            CaseloadError::DuplicateHousehold(h) => format!("家庭{h}重复"),
            CaseloadError::UnknownHousehold(h) => format!("家庭{h}不存在"),
        }
    }
}

const EMPTY: u64 = u64::MAX;

/// Open-addressing table from identity key to member; linear probing, load ≤ 1/2.
///
/// Most feed rows are about people who are not recipients, and the table (tens of MB) misses
/// the caches on every probe. A blocked Bloom filter (two bits in one 64-bit word, about one
/// byte per member: ~1 MB, so it stays in L2) answers "not a member" for most of them first.
#[derive(Debug, Clone)]
struct IdTable {
    keys: Vec<u64>,
    vals: Vec<MemberIx>,
    shift: u32,
    filter: Vec<u64>,
    filter_shift: u32,
}

#[inline]
fn mix(key: u64) -> u64 {
    (key ^ (key >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

impl IdTable {
    fn with_capacity(n: usize) -> IdTable {
        let slots = (n.max(8) * 2).next_power_of_two();
        // One filter word per 16 slots (at most 8 members at full load): 0.5–1 byte per member.
        let words = (slots / 16).max(2);
        IdTable {
            keys: vec![EMPTY; slots],
            vals: vec![0; slots],
            shift: 64 - slots.trailing_zeros(),
            filter: vec![0; words],
            filter_shift: 64 - words.trailing_zeros(),
        }
    }
    #[inline]
    fn filter_bits(&self, key: u64) -> (usize, u64) {
        let h = mix(key);
        let word = (h >> self.filter_shift) as usize;
        let bits = (1u64 << ((h >> 20) & 63)) | (1u64 << ((h >> 26) & 63));
        (word, bits)
    }
    #[inline]
    fn may_contain(&self, key: u64) -> bool {
        let (w, bits) = self.filter_bits(key);
        self.filter[w] & bits == bits
    }
    #[inline]
    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }
    #[inline]
    fn get(&self, key: u64) -> Option<MemberIx> {
        if !self.may_contain(key) {
            return None;
        }
        self.probe(key)
    }
    #[inline]
    fn probe(&self, key: u64) -> Option<MemberIx> {
        let mask = self.keys.len() - 1;
        let mut i = self.slot(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.vals[i]);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
    fn grow(&mut self) {
        let old_k = std::mem::take(&mut self.keys);
        let old_v = std::mem::take(&mut self.vals);
        *self = IdTable::with_capacity(old_k.len());
        for (k, v) in old_k.into_iter().zip(old_v) {
            if k != EMPTY {
                self.insert_unchecked(k, v);
            }
        }
    }
    fn insert_unchecked(&mut self, key: u64, val: MemberIx) {
        let mask = self.keys.len() - 1;
        let mut i = self.slot(key);
        while self.keys[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.keys[i] = key;
        self.vals[i] = val;
        let (w, bits) = self.filter_bits(key);
        self.filter[w] |= bits;
    }
}

/// Recipient households and their members, as of the month being compared.
#[derive(Debug, Clone)]
pub struct CaseloadIndex {
    table: IdTable,
    member_key: Vec<u64>,
    member_household: Vec<HouseholdIx>,
    household_ref: Vec<i64>,
    household_area: Vec<Area>,
    household_members: Vec<u32>,
}

/// Builds a [`CaseloadIndex`]; give it the expected member count to avoid rehashing.
#[derive(Debug)]
pub struct CaseloadBuilder {
    index: CaseloadIndex,
    by_ref: std::collections::HashMap<i64, HouseholdIx>,
}

impl CaseloadBuilder {
    pub fn new(expected_members: usize) -> CaseloadBuilder {
        CaseloadBuilder {
            index: CaseloadIndex {
                table: IdTable::with_capacity(expected_members),
                member_key: Vec::with_capacity(expected_members),
                member_household: Vec::with_capacity(expected_members),
                household_ref: Vec::new(),
                household_area: Vec::new(),
                household_members: Vec::new(),
            },
            by_ref: std::collections::HashMap::new(),
        }
    }

    /// Adds a household by its store identifier (what the warning list reports).
    pub fn add_household(&mut self, id: i64, area: Area) -> Result<HouseholdIx, CaseloadError> {
        let ix = self.index.household_ref.len() as HouseholdIx;
        if self.by_ref.insert(id, ix).is_some() {
            return Err(CaseloadError::DuplicateHousehold(id));
        }
        self.index.household_ref.push(id);
        self.index.household_area.push(area);
        self.index.household_members.push(0);
        Ok(ix)
    }

    pub fn household(&self, id: i64) -> Option<HouseholdIx> {
        self.by_ref.get(&id).copied()
    }

    /// Adds a member to a household (by store identifier). A person belongs to one household.
    pub fn add_member(&mut self, household: i64, id: &IdNumber) -> Result<MemberIx, CaseloadError> {
        let h = self
            .household(household)
            .ok_or(CaseloadError::UnknownHousehold(household))?;
        self.add_member_ix(h, id)
    }

    pub fn add_member_ix(
        &mut self,
        h: HouseholdIx,
        id: &IdNumber,
    ) -> Result<MemberIx, CaseloadError> {
        let key = parse::id_key(id.as_str().as_bytes()).expect("IdNumber is valid");
        self.add_member_key(h, key)
    }

    /// Adds a member by identity key ([`parse::id_key`] of a valid number), e.g. from a
    /// caseload snapshot that stores keys instead of text.
    pub fn add_member_key(&mut self, h: HouseholdIx, key: u64) -> Result<MemberIx, CaseloadError> {
        let ix = self.index.member_key.len() as MemberIx;
        if !self.index.table.insert_fast(key, ix) {
            let id = parse::id_from_key(key);
            return Err(CaseloadError::DuplicateMember(
                String::from_utf8_lossy(&id).into_owned(),
            ));
        }
        self.index.member_key.push(key);
        self.index.member_household.push(h);
        self.index.household_members[h as usize] += 1;
        Ok(ix)
    }

    pub fn build(self) -> CaseloadIndex {
        self.index
    }
}

impl IdTable {
    /// Inserts a member; members are numbered densely, so `val` is the count so far and sizes the
    /// table. Returns false when the key is present already.
    fn insert_fast(&mut self, key: u64, val: MemberIx) -> bool {
        if (val as usize + 1) * 2 > self.keys.len() {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut i = self.slot(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return false;
            }
            if k == EMPTY {
                self.keys[i] = key;
                self.vals[i] = val;
                let (w, bits) = self.filter_bits(key);
                self.filter[w] |= bits;
                return true;
            }
            i = (i + 1) & mask;
        }
    }
}

impl CaseloadIndex {
    pub fn households(&self) -> usize {
        self.household_ref.len()
    }
    pub fn members(&self) -> usize {
        self.member_key.len()
    }
    /// The member with this identity key (see [`parse::id_key`]).
    #[inline]
    pub fn member_by_key(&self, key: u64) -> Option<MemberIx> {
        self.table.get(key)
    }
    /// False: certainly not a member. True: look it up with [`CaseloadIndex::probe`].
    #[inline]
    pub(crate) fn may_contain(&self, key: u64) -> bool {
        self.table.may_contain(key)
    }
    #[inline]
    pub(crate) fn probe(&self, key: u64) -> Option<MemberIx> {
        self.table.probe(key)
    }
    pub fn member(&self, id: &IdNumber) -> Option<MemberIx> {
        parse::id_key(id.as_str().as_bytes())
            .ok()
            .and_then(|k| self.member_by_key(k))
    }
    #[inline]
    pub fn household_of(&self, m: MemberIx) -> HouseholdIx {
        self.member_household[m as usize]
    }
    pub fn member_id(&self, m: MemberIx) -> IdNumber {
        let chars = parse::id_from_key(self.member_key[m as usize]);
        IdNumber::parse(std::str::from_utf8(&chars).expect("ascii")).expect("valid key")
    }
    /// The store identifier of a household.
    pub fn household_ref(&self, h: HouseholdIx) -> i64 {
        self.household_ref[h as usize]
    }
    pub fn area(&self, h: HouseholdIx) -> Area {
        self.household_area[h as usize]
    }
    pub fn member_count(&self, h: HouseholdIx) -> u32 {
        self.household_members[h as usize]
    }
    /// Approximate heap bytes held, for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        self.table.keys.len() * 12
            + self.member_key.capacity() * 12
            + self.household_ref.capacity() * 13
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_grows_and_finds() {
        let mut t = IdTable::with_capacity(2);
        for k in 0..1000u64 {
            assert!(t.insert_fast(k * 7919, k as u32));
        }
        assert!(!t.insert_fast(7919, 1000));
        for k in 0..1000u64 {
            assert_eq!(t.get(k * 7919), Some(k as u32));
        }
        assert_eq!(t.get(3), None);
    }
}
