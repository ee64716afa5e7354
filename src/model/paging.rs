//! Paging as a keyset (ListCACertificates, ListCertificates, ListCertificatesByCA,
//! ListTagsForResource): a page is "the next `pageSize` items after the last key returned",
//! and the marker is that key, sealed.
//!
//! A SQL store pages with
//! `WHERE (creation_date, id) < ($1, $2) ORDER BY creation_date DESC, id DESC LIMIT n + 1`
//! (`>` and `ASC` in ascending order): it reads the key to start after with
//! [`ListQuery::after`], runs its query, and hands the rows to [`Page::from_rows`].
//! [`page_slice`] does exactly the same over an in-memory slice, so stores and tests agree.
//!
//! # What a marker is
//! `base64(version ‖ key ‖ tag)`, where `tag` is the first 16 bytes of HMAC-SHA-256 (RFC 2104)
//! under the caller's [`MarkerKey`] over the version, the key and the [`Listing`] (operation,
//! account, region, partition, filters and sort order). The crate holds no secret of its own, so
//! the key is the caller's: without it nobody can make a marker the crate accepts, and a marker
//! made for one listing is refused by every other (another account, another filter, the other
//! order). The key it encodes is readable by whoever holds the marker (it is the last item of
//! a page they were shown): the marker is authenticated, not encrypted.

use base64_simd::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, MarkerProblem, PagingError, RequestError};
use crate::model::certificate_id::CertificateId;
use crate::model::scope::AccountScope;
use crate::model::template::TemplateName;
use crate::x509::time::UnixTime;

/// Smallest pageSize (our rule).
pub const MIN_PAGE_SIZE: u16 = 1;
/// Largest pageSize (our rule; AWS model: `PageSize` min 1, max 250).
pub const MAX_PAGE_SIZE: u16 = 250;
/// pageSize when the request gives none (our rule).
pub const DEFAULT_PAGE_SIZE: u16 = 25;
/// Longest marker, in characters. AWS model: `Marker` max 1024.
pub const MAX_MARKER_CHARS: usize = 1024;
/// The pattern a marker matches. AWS model: `Marker` pattern.
pub const MARKER_PATTERN: &str = "[A-Za-z0-9+/]+={0,2}";

/// The marker format this crate writes.
const MARKER_VERSION: u8 = 1;
/// Bytes of the HMAC-SHA-256 kept in a marker (128 bits, RFC 2104 §5 allows truncation to half).
const TAG_LEN: usize = 16;
/// Domain separation for the MAC input.
const MAC_LABEL: &[u8] = b"iot-ca list marker";

/// The caller's secret that seals markers: 32 bytes, kept across restarts and shared by
/// every process that serves the same registry (or markers from one are refused by another).
/// Zeroized on drop; `Debug` does not show it.
#[derive(Clone)]
pub struct MarkerKey(Zeroizing<[u8; 32]>);

impl MarkerKey {
    /// A key from the caller's 32 secret bytes.
    #[must_use]
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh key from the caller's RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC pads a key shorter than the hash's block to the block size with zeros
        // (RFC 2104 §2): this is the same MAC as keying with the 32 bytes, without a fallible call.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(self.0.as_ref());
        Hmac::<Sha256>::new(&(*block).into())
    }
}

impl core::fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MarkerKey(..)")
    }
}

/// The listing a marker belongs to. A marker decodes only for the listing it was made for:
/// the same operation, scope, filters and sort order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing(Vec<u8>);

impl Listing {
    /// `operation` (e.g. `ListCACertificates`) in `scope`.
    #[must_use]
    pub fn new(operation: &str, scope: &AccountScope) -> Self {
        Self(Vec::new())
            .with_filter("operation", Some(operation))
            .with_filter("partition", Some(scope.partition.as_str()))
            .with_filter("region", Some(scope.region.as_str()))
            .with_filter("account", Some(scope.account.as_str()))
    }

    /// The same listing narrowed by the filter `name` (e.g. `templateName`, `caCertificateId`),
    /// absent or with a value.
    #[must_use]
    pub fn with_filter(mut self, name: &str, value: Option<&str>) -> Self {
        for part in [Some(name), value] {
            match part {
                // Length-prefixed, so no two different listings share an encoding.
                Some(text) => {
                    self.0.push(1);
                    self.0.extend_from_slice(&(text.len() as u64).to_be_bytes());
                    self.0.extend_from_slice(text.as_bytes());
                }
                None => self.0.push(0),
            }
        }
        self
    }
}

/// The order of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortOrder {
    /// Oldest first (`isAscendingOrder=true`).
    Ascending,
    /// Newest first: the default (`isAscendingOrder` absent or false; our rule).
    #[default]
    Descending,
}

impl SortOrder {
    /// The order `isAscendingOrder` asks for.
    #[must_use]
    pub const fn from_is_ascending(ascending: bool) -> Self {
        if ascending { Self::Ascending } else { Self::Descending }
    }

    const fn as_str(self) -> &'static str {
        match self {
            Self::Ascending => "ascending",
            Self::Descending => "descending",
        }
    }
}

/// A pageSize of 1..=250.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageSize(u16);

impl PageSize {
    /// Checks `value` against [`MIN_PAGE_SIZE`]..=[`MAX_PAGE_SIZE`].
    ///
    /// # Errors
    /// [`PagingError::PageSize`] (InvalidRequestException).
    pub fn new(value: i64) -> Result<Self, Error> {
        match u16::try_from(value) {
            Ok(v) if (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&v) => Ok(Self(v)),
            _ => Err(Error::Paging(PagingError::PageSize { value, min: MIN_PAGE_SIZE, max: MAX_PAGE_SIZE })),
        }
    }

    /// The size.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self(DEFAULT_PAGE_SIZE)
    }
}

/// A marker (or nextToken) as a request gives it: its shape is checked, its seal is checked
/// when a page is read with it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Marker {
    text: String,
    member: &'static str,
}

impl Marker {
    /// Checks the shape of `text`, given as the member `member` (`marker`, `nextToken`):
    /// 1..=1024 characters matching [`MARKER_PATTERN`].
    ///
    /// # Errors
    /// [`RequestError::Length`] or [`RequestError::Pattern`] (InvalidRequestException).
    pub fn parse(text: &str, member: &'static str) -> Result<Self, Error> {
        let len = text.chars().take(MAX_MARKER_CHARS + 1).count();
        if len == 0 || len > MAX_MARKER_CHARS {
            let len = if len > MAX_MARKER_CHARS { text.chars().count() } else { len };
            return Err(Error::Request(RequestError::Length { member, len, min: 1, max: MAX_MARKER_CHARS }));
        }
        let body = text.trim_end_matches('=');
        let shape = !body.is_empty()
            && text.len() - body.len() <= 2
            && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if !shape {
            return Err(Error::Request(RequestError::Pattern {
                member,
                value: text.chars().take(256).collect(),
                pattern: MARKER_PATTERN,
            }));
        }
        Ok(Self { text: text.to_owned(), member })
    }

    /// The marker as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The member it was given as.
    #[must_use]
    pub fn member(&self) -> &'static str {
        self.member
    }
}

/// A key that orders a listing and travels in its markers. Implemented by [`CreationKey`]
/// (certificates: creationDate, then certificateId) and by `String` (tag keys).
pub trait PageKey: Ord + Clone + sealed::Sealed {
    /// The byte that says which kind of key a marker holds.
    #[doc(hidden)]
    const KIND: u8;
    /// Appends the key's bytes.
    #[doc(hidden)]
    fn write(&self, out: &mut Vec<u8>);
    /// Reads a key written by [`PageKey::write`].
    #[doc(hidden)]
    fn read(bytes: &[u8]) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::CreationKey {}
    impl Sealed for String {}
}

/// The order key of certificates: `(creationDate, certificateId)`. Ids are unique in an
/// account, so the key is too, and items created in the same second still have one order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct CreationKey {
    /// `creationDate`.
    pub creation_date: UnixTime,
    /// `certificateId`.
    pub certificate_id: CertificateId,
}

impl CreationKey {
    /// The key of an item created at `creation_date` with id `certificate_id`.
    #[must_use]
    pub fn new(creation_date: UnixTime, certificate_id: CertificateId) -> Self {
        Self { creation_date, certificate_id }
    }
}

impl PageKey for CreationKey {
    const KIND: u8 = 1;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.creation_date.as_secs().to_be_bytes());
        out.extend_from_slice(self.certificate_id.as_str().as_bytes());
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        let (secs, id) = bytes.split_first_chunk::<8>()?;
        let id = CertificateId::parse(core::str::from_utf8(id).ok()?)?;
        Some(Self::new(UnixTime::from_secs(i64::from_be_bytes(*secs)), id))
    }
}

impl PageKey for String {
    const KIND: u8 = 2;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        core::str::from_utf8(bytes).ok().map(str::to_owned)
    }
}

/// An item of a listing, with the key it is ordered by.
pub trait Keyed {
    /// The key type.
    type Key: PageKey;

    /// This item's key.
    fn page_key(&self) -> Self::Key;
}

/// A tag `(key, value)`, listed in key order.
impl Keyed for (String, String) {
    type Key = String;

    fn page_key(&self) -> String {
        self.0.clone()
    }
}

/// A name (a thing's, a policy target's ARN, a principal's ARN) is listed by itself.
impl Keyed for String {
    type Key = Self;

    fn page_key(&self) -> Self {
        self.clone()
    }
}

impl<T: Keyed + ?Sized> Keyed for &T {
    type Key = T::Key;

    fn page_key(&self) -> T::Key {
        (**self).page_key()
    }
}

/// The paging members of a list request: pageSize, isAscendingOrder, marker, and
/// ListCACertificates' templateName filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    page_size: PageSize,
    order: SortOrder,
    marker: Option<Marker>,
    template_name: Option<TemplateName>,
}

impl ListQuery {
    /// The first page, newest first, 25 items.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    #[must_use]
    pub fn with_page_size(mut self, size: PageSize) -> Self {
        self.page_size = size;
        self
    }

    /// Sets the order.
    #[must_use]
    pub fn with_order(mut self, order: SortOrder) -> Self {
        self.order = order;
        self
    }

    /// Continues after the page whose marker this is.
    #[must_use]
    pub fn with_marker(mut self, marker: Marker) -> Self {
        self.marker = Some(marker);
        self
    }

    /// Lists only CAs whose registrationConfig names this template (ListCACertificates).
    #[must_use]
    pub fn with_template_name(mut self, name: TemplateName) -> Self {
        self.template_name = Some(name);
        self
    }

    /// The page size.
    #[must_use]
    pub fn page_size(&self) -> PageSize {
        self.page_size
    }

    /// The order.
    #[must_use]
    pub fn order(&self) -> SortOrder {
        self.order
    }

    /// The marker, if this is not the first page.
    #[must_use]
    pub fn marker(&self) -> Option<&Marker> {
        self.marker.as_ref()
    }

    /// The templateName filter.
    #[must_use]
    pub fn template_name(&self) -> Option<&TemplateName> {
        self.template_name.as_ref()
    }

    /// The key to start after (`None` on the first page): the marker, unsealed.
    ///
    /// # Errors
    /// [`PagingError::Marker`] when the marker was not made by `key` for this `listing` in this
    /// order, or does not hold a key of type `K` (InvalidRequestException).
    pub fn after<K: PageKey>(&self, key: &MarkerKey, listing: &Listing) -> Result<Option<K>, Error> {
        let Some(marker) = &self.marker else { return Ok(None) };
        let problem = |problem| Error::Paging(PagingError::Marker { member: marker.member, problem });
        let bytes = STANDARD.decode_to_vec(marker.as_str()).map_err(|_| problem(MarkerProblem::Encoding))?;
        let (&version, rest) = bytes.split_first().ok_or(problem(MarkerProblem::Encoding))?;
        if version != MARKER_VERSION {
            return Err(problem(MarkerProblem::Version { found: version }));
        }
        let payload_len = rest.len().checked_sub(TAG_LEN).ok_or(problem(MarkerProblem::Encoding))?;
        let (payload, tag) = rest.split_at(payload_len);
        seal(key, listing, self.order, payload).verify_truncated_left(tag).map_err(|_| problem(MarkerProblem::Seal))?;
        match payload.split_first() {
            Some((&kind, key)) if kind == K::KIND => K::read(key).map(Some).ok_or(problem(MarkerProblem::Key)),
            _ => Err(problem(MarkerProblem::Key)),
        }
    }

    /// The marker that continues after `last`.
    #[must_use]
    pub fn marker_after<K: PageKey>(&self, last: &K, key: &MarkerKey, listing: &Listing) -> String {
        let mut payload = vec![K::KIND];
        last.write(&mut payload);
        let tag = seal(key, listing, self.order, &payload).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(1 + payload.len() + TAG_LEN);
        bytes.push(MARKER_VERSION);
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        STANDARD.encode_to_string(bytes)
    }
}

/// The MAC over a marker's version, listing, order and payload, ready to finalize or verify.
fn seal(key: &MarkerKey, listing: &Listing, order: SortOrder, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = key.mac();
    let listing = listing.clone().with_filter("order", Some(order.as_str()));
    mac.update(MAC_LABEL);
    mac.update(&[MARKER_VERSION]);
    mac.update(&(listing.0.len() as u64).to_be_bytes());
    mac.update(&listing.0);
    mac.update(payload);
    mac
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// The marker of the next page (`nextMarker`, `nextToken`); `None` on the last page.
    pub next_marker: Option<String>,
}

impl<T: Keyed> Page<T> {
    /// The page from a keyset query's rows: up to `pageSize + 1` items after the query's key,
    /// in its order. The extra row only says that another page follows; it is not returned.
    #[must_use]
    pub fn from_rows(mut rows: Vec<T>, query: &ListQuery, key: &MarkerKey, listing: &Listing) -> Self {
        let size = usize::from(query.page_size.get());
        let more = rows.len() > size;
        rows.truncate(size);
        let next_marker = match rows.last() {
            Some(last) if more => Some(query.marker_after(&last.page_key(), key, listing)),
            _ => None,
        };
        Self { items: rows, next_marker }
    }
}

/// A page of `items` (in any order) exactly as a keyset query over them would return it: the
/// items after the marker's key in the query's order, `pageSize` of them, and the next marker
/// when more follow.
///
/// # Errors
/// As [`ListQuery::after`].
pub fn page_slice<'a, T: Keyed>(
    items: &'a [T],
    query: &ListQuery,
    key: &MarkerKey,
    listing: &Listing,
) -> Result<Page<&'a T>, Error> {
    let after = query.after::<T::Key>(key, listing)?;
    let mut rows: Vec<(T::Key, &T)> = items
        .iter()
        .map(|item| (item.page_key(), item))
        .filter(|(k, _)| match (&after, query.order) {
            (None, _) => true,
            (Some(a), SortOrder::Ascending) => k > a,
            (Some(a), SortOrder::Descending) => k < a,
        })
        .collect();
    match query.order {
        SortOrder::Ascending => rows.sort_by(|a, b| a.0.cmp(&b.0)),
        SortOrder::Descending => rows.sort_by(|a, b| b.0.cmp(&a.0)),
    }
    rows.truncate(usize::from(query.page_size.get()) + 1);
    Ok(Page::from_rows(rows.into_iter().map(|(_, item)| item).collect(), query, key, listing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};

    fn scope(account: &str) -> AccountScope {
        AccountScope::new(AccountId::parse(account).unwrap(), Region::parse("us-east-1").unwrap())
    }

    fn key(date: i64, n: u8) -> CreationKey {
        CreationKey::new(UnixTime::from_secs(date), CertificateId::of_der(&[n]))
    }

    #[test]
    fn markers_round_trip_and_fit_the_model() {
        let k = MarkerKey::new([7; 32]);
        let listing = Listing::new("ListCACertificates", &scope("123456789012"));
        let query = ListQuery::new();
        for last in [key(0, 1), key(-1, 2), key(i64::MAX, 3), key(i64::MIN, 4)] {
            let text = query.marker_after(&last, &k, &listing);
            let marker = Marker::parse(&text, "marker").unwrap();
            assert!(text.len() <= MAX_MARKER_CHARS);
            assert_eq!(query.clone().with_marker(marker).after(&k, &listing), Ok(Some(last)));
        }
        let tag = "a".repeat(128).replace('a', "é");
        let text = query.marker_after(&tag, &k, &listing);
        assert!(text.len() <= MAX_MARKER_CHARS);
        let q = query.clone().with_marker(Marker::parse(&text, "nextToken").unwrap());
        assert_eq!(q.after::<String>(&k, &listing), Ok(Some(tag)));
    }

    #[test]
    fn markers_are_bound_to_key_listing_and_order() {
        let k = MarkerKey::new([7; 32]);
        let listing = Listing::new("ListCACertificates", &scope("123456789012"));
        let text = ListQuery::new().marker_after(&key(5, 1), &k, &listing);
        let q = ListQuery::new().with_marker(Marker::parse(&text, "marker").unwrap());
        let seal = Err(Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Seal }));
        assert_eq!(q.after::<CreationKey>(&MarkerKey::new([8; 32]), &listing), seal);
        let other_account = Listing::new("ListCACertificates", &scope("210987654321"));
        assert_eq!(q.after::<CreationKey>(&k, &other_account), seal);
        let filtered = listing.clone().with_filter("templateName", Some("t"));
        assert_eq!(q.after::<CreationKey>(&k, &filtered), seal);
        let asc = q.clone().with_order(SortOrder::Ascending);
        assert_eq!(asc.after::<CreationKey>(&k, &listing), seal);
        let not_a_tag_key = q.after::<String>(&k, &listing);
        assert_eq!(
            not_a_tag_key,
            Err(Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Key }))
        );
    }

    #[test]
    fn marker_shape() {
        assert!(Marker::parse("abc+/==", "marker").is_ok());
        for bad in ["=", "ab===", "a b", "ab=c", "é"] {
            assert!(matches!(Marker::parse(bad, "marker"), Err(Error::Request(RequestError::Pattern { .. }))), "{bad}");
        }
        assert!(matches!(Marker::parse("", "marker"), Err(Error::Request(RequestError::Length { len: 0, .. }))));
        let long = "a".repeat(1025);
        assert!(matches!(Marker::parse(&long, "marker"), Err(Error::Request(RequestError::Length { len: 1025, .. }))));
        assert!(Marker::parse(&"a".repeat(1024), "marker").is_ok());
    }

    #[test]
    fn page_sizes() {
        assert_eq!(PageSize::default().get(), 25);
        assert_eq!(PageSize::new(1).map(PageSize::get), Ok(1));
        assert_eq!(PageSize::new(250).map(PageSize::get), Ok(250));
        for bad in [0, 251, -1, i64::MAX, i64::MIN] {
            assert_eq!(PageSize::new(bad), Err(Error::Paging(PagingError::PageSize { value: bad, min: 1, max: 250 })));
        }
    }
}
