//! Things (rule 10.1): CreateThing, DescribeThing, UpdateThing, DeleteThing and ListThings as
//! pure decisions over what the caller's store holds, and the thing as it is stored.

use rand_core::CryptoRng;

use crate::error::{Error, ThingError};
use crate::model::attributes::{AttributePayload, Attributes};
use crate::model::description::generation_id;
use crate::model::names::{BillingGroupName, ThingName, ThingTypeName};
use crate::model::paging::{Keyed, Listing};
use crate::model::scope::AccountScope;

/// A thing as the registry keeps it (DescribeThing's members).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingDescription {
    /// thingName.
    pub thing_name: ThingName,
    /// thingId: a UUID v4 from the caller's RNG.
    pub thing_id: String,
    /// thingArn.
    pub thing_arn: String,
    /// thingTypeName.
    pub thing_type_name: Option<ThingTypeName>,
    /// attributes.
    pub attributes: Attributes,
    /// version: 1 when created, one more at each UpdateThing.
    pub version: i64,
    /// billingGroupName.
    pub billing_group_name: Option<BillingGroupName>,
}

impl ThingDescription {
    /// A thing's description as stored, from its members (a store's record).
    #[must_use]
    pub fn new(thing_name: ThingName, thing_id: String, thing_arn: String, version: i64) -> Self {
        Self {
            thing_name,
            thing_id,
            thing_arn,
            thing_type_name: None,
            attributes: Attributes::default(),
            version,
            billing_group_name: None,
        }
    }

    /// Whether `request` asks for exactly this thing's configuration (CreateThing again with
    /// the same members answers the same thing).
    fn is_configured_as(&self, request: &CreateThingRequest) -> bool {
        let attributes = request.attribute_payload.as_ref().map(|p| p.attributes.clone()).unwrap_or_default();
        self.thing_type_name == request.thing_type_name
            && self.attributes == attributes
            && self.billing_group_name == request.billing_group_name
    }
}

/// A thing is listed in name order.
impl Keyed for ThingDescription {
    type Key = String;

    fn page_key(&self) -> String {
        self.thing_name.as_str().to_owned()
    }
}

/// CreateThing's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateThingRequest {
    /// thingName.
    pub thing_name: ThingName,
    /// thingTypeName.
    pub thing_type_name: Option<ThingTypeName>,
    /// attributePayload (`merge` has no meaning here).
    pub attribute_payload: Option<AttributePayload>,
    /// billingGroupName.
    pub billing_group_name: Option<BillingGroupName>,
}

impl CreateThingRequest {
    /// A request for a thing named `thing_name` and nothing else.
    #[must_use]
    pub fn new(thing_name: ThingName) -> Self {
        Self { thing_name, thing_type_name: None, attribute_payload: None, billing_group_name: None }
    }
}

/// What the caller's store knows for CreateThing and UpdateThing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingFacts {
    /// The thing by that name, if the scope holds one.
    pub existing: Option<ThingDescription>,
    /// Whether the thing type the request names exists (ignored when it names none).
    pub thing_type_exists: bool,
}

impl ThingFacts {
    /// Facts of a scope that holds no such thing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The thing the scope holds by that name.
    #[must_use]
    pub fn with_existing(mut self, existing: Option<ThingDescription>) -> Self {
        self.existing = existing;
        self
    }

    /// Whether the named thing type exists.
    #[must_use]
    pub fn with_thing_type_exists(mut self, exists: bool) -> Self {
        self.thing_type_exists = exists;
        self
    }
}

/// What CreateThing decided: the thing, and whether it is new (to be stored) or the one the
/// scope holds already.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingCreation {
    /// The thing.
    pub thing: ThingDescription,
    /// `true` when it is to be stored.
    pub created: bool,
}

/// CreateThing: the same name and configuration again answers the thing that exists; another
/// configuration is ResourceAlreadyExistsException. A thing type must exist; billing groups are
/// not kept, so none exists.
///
/// # Errors
/// [`ThingError::ThingExists`], [`ThingError::ThingTypeNotFound`],
/// [`ThingError::BillingGroupNotFound`].
pub fn create_thing<R: CryptoRng + ?Sized>(
    request: &CreateThingRequest,
    facts: &ThingFacts,
    scope: &AccountScope,
    rng: &mut R,
) -> Result<ThingCreation, Error> {
    if let Some(existing) = &facts.existing {
        if existing.is_configured_as(request) {
            return Ok(ThingCreation { thing: existing.clone(), created: false });
        }
        return Err(ThingError::ThingExists {
            thing_name: existing.thing_name.to_string(),
            thing_arn: existing.thing_arn.clone(),
        }
        .into());
    }
    if let Some(name) = &request.thing_type_name
        && !facts.thing_type_exists
    {
        return Err(ThingError::ThingTypeNotFound { thing_type_name: name.to_string() }.into());
    }
    if let Some(name) = &request.billing_group_name {
        return Err(ThingError::BillingGroupNotFound { billing_group_name: name.to_string() }.into());
    }
    let mut thing =
        ThingDescription::new(request.thing_name.clone(), generation_id(rng), scope.thing_arn(&request.thing_name), 1);
    thing.thing_type_name.clone_from(&request.thing_type_name);
    if let Some(payload) = &request.attribute_payload {
        thing.attributes = Attributes::default().applied(&payload.attributes, false)?;
    }
    Ok(ThingCreation { thing, created: true })
}

/// DescribeThing.
///
/// # Errors
/// [`ThingError::ThingNotFound`] when the scope holds no such thing.
pub fn describe_thing<'a>(
    name: &ThingName,
    stored: Option<&'a ThingDescription>,
) -> Result<&'a ThingDescription, Error> {
    stored.ok_or_else(|| ThingError::ThingNotFound { thing_name: name.to_string() }.into())
}

/// UpdateThing's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateThingRequest {
    /// thingName.
    pub thing_name: ThingName,
    /// thingTypeName: the new type.
    pub thing_type_name: Option<ThingTypeName>,
    /// attributePayload: merged or replacing.
    pub attribute_payload: Option<AttributePayload>,
    /// expectedVersion.
    pub expected_version: Option<i64>,
    /// removeThingType.
    pub remove_thing_type: bool,
}

impl UpdateThingRequest {
    /// An update of `thing_name` that changes nothing yet.
    #[must_use]
    pub fn new(thing_name: ThingName) -> Self {
        Self {
            thing_name,
            thing_type_name: None,
            attribute_payload: None,
            expected_version: None,
            remove_thing_type: false,
        }
    }
}

/// UpdateThing: the updated thing, its version one more (every update counts, as AWS's do).
///
/// # Errors
/// [`ThingError::ThingNotFound`], [`ThingError::VersionConflict`],
/// [`ThingError::TypeAndRemoveType`], [`ThingError::ThingTypeNotFound`],
/// [`ThingError::TooManyAttributes`].
pub fn update_thing(request: &UpdateThingRequest, facts: &ThingFacts) -> Result<ThingDescription, Error> {
    let mut thing = describe_thing(&request.thing_name, facts.existing.as_ref())?.clone();
    check_version(&thing, request.expected_version)?;
    if request.remove_thing_type && request.thing_type_name.is_some() {
        return Err(ThingError::TypeAndRemoveType.into());
    }
    if let Some(name) = &request.thing_type_name {
        if !facts.thing_type_exists {
            return Err(ThingError::ThingTypeNotFound { thing_type_name: name.to_string() }.into());
        }
        thing.thing_type_name = Some(name.clone());
    }
    if request.remove_thing_type {
        thing.thing_type_name = None;
    }
    if let Some(payload) = &request.attribute_payload {
        thing.attributes = thing.attributes.applied(&payload.attributes, payload.merge)?;
    }
    thing.version = thing.version.saturating_add(1);
    Ok(thing)
}

fn check_version(thing: &ThingDescription, expected: Option<i64>) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != thing.version => Err(ThingError::VersionConflict {
            thing_name: thing.thing_name.to_string(),
            expected,
            actual: thing.version,
        }
        .into()),
        _ => Ok(()),
    }
}

/// DeleteThing's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteThingRequest {
    /// thingName.
    pub thing_name: ThingName,
    /// expectedVersion.
    pub expected_version: Option<i64>,
}

impl DeleteThingRequest {
    /// A delete of `thing_name`, whatever its version.
    #[must_use]
    pub fn new(thing_name: ThingName) -> Self {
        Self { thing_name, expected_version: None }
    }
}

/// DeleteThing: `true` when the thing is to be deleted, `false` when there is none (which AWS
/// answers as a success too). `principals` is how many principals are attached to it.
///
/// # Errors
/// [`ThingError::VersionConflict`]; [`ThingError::PrincipalsAttached`] (InvalidRequestException,
/// our wording).
pub fn delete_thing(
    request: &DeleteThingRequest,
    stored: Option<&ThingDescription>,
    principals: usize,
) -> Result<bool, Error> {
    let Some(thing) = stored else { return Ok(false) };
    check_version(thing, request.expected_version)?;
    if principals > 0 {
        return Err(
            ThingError::PrincipalsAttached { thing_name: thing.thing_name.to_string(), count: principals }.into()
        );
    }
    Ok(true)
}

/// The listing ListThings' tokens are bound to (its filters included).
#[must_use]
pub fn things_listing(
    scope: &AccountScope,
    thing_type: Option<&ThingTypeName>,
    attribute: Option<(&str, &str)>,
) -> Listing {
    Listing::new("ListThings", scope)
        .with_filter("thingTypeName", thing_type.map(ThingTypeName::as_str))
        .with_filter("attributeName", attribute.map(|(n, _)| n))
        .with_filter("attributeValue", attribute.map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("eu-west-1").unwrap())
    }

    fn rng() -> impl CryptoRng {
        <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1)
    }

    fn name(text: &str) -> ThingName {
        ThingName::parse(text).unwrap()
    }

    fn created(request: &CreateThingRequest) -> ThingDescription {
        create_thing(request, &ThingFacts::new(), &scope(), &mut rng()).unwrap().thing
    }

    #[test]
    fn create_is_idempotent_for_the_same_configuration_only() {
        let mut request = CreateThingRequest::new(name("t1"));
        request.attribute_payload = Some(AttributePayload::new(Attributes::new([("a", "1")]).unwrap(), false));
        let thing = created(&request);
        assert_eq!(thing.thing_arn, "arn:aws:iot:eu-west-1:123456789012:thing/t1");
        assert_eq!((thing.version, thing.thing_id.len()), (1, 36));
        let facts = ThingFacts::new().with_existing(Some(thing.clone()));
        let again = create_thing(&request, &facts, &scope(), &mut rng()).unwrap();
        assert_eq!(again, ThingCreation { thing: thing.clone(), created: false });
        let other = CreateThingRequest::new(name("t1"));
        assert!(matches!(
            create_thing(&other, &facts, &scope(), &mut rng()),
            Err(Error::Thing(ThingError::ThingExists { .. }))
        ));
        let mut typed = CreateThingRequest::new(name("t2"));
        typed.thing_type_name = Some(ThingTypeName::parse("sensor").unwrap());
        assert!(matches!(
            create_thing(&typed, &ThingFacts::new(), &scope(), &mut rng()),
            Err(Error::Thing(ThingError::ThingTypeNotFound { .. }))
        ));
        let ok = create_thing(&typed, &ThingFacts::new().with_thing_type_exists(true), &scope(), &mut rng()).unwrap();
        assert_eq!(ok.thing.thing_type_name.unwrap().as_str(), "sensor");
        let mut billed = CreateThingRequest::new(name("t3"));
        billed.billing_group_name = Some(BillingGroupName::parse("b").unwrap());
        assert!(matches!(
            create_thing(&billed, &ThingFacts::new(), &scope(), &mut rng()),
            Err(Error::Thing(ThingError::BillingGroupNotFound { .. }))
        ));
    }

    #[test]
    fn update_merges_replaces_and_checks_the_version() {
        let mut request = CreateThingRequest::new(name("t1"));
        request.attribute_payload =
            Some(AttributePayload::new(Attributes::new([("a", "1"), ("b", "2")]).unwrap(), false));
        let thing = created(&request);
        let facts = ThingFacts::new().with_existing(Some(thing));
        let mut update = UpdateThingRequest::new(name("t1"));
        update.attribute_payload = Some(AttributePayload::new(Attributes::new([("b", ""), ("c", "3")]).unwrap(), true));
        update.expected_version = Some(1);
        let updated = update_thing(&update, &facts).unwrap();
        assert_eq!(updated.attributes.iter().collect::<Vec<_>>(), [("a", "1"), ("c", "3")]);
        assert_eq!(updated.version, 2);
        update.expected_version = Some(7);
        assert!(matches!(
            update_thing(&update, &facts),
            Err(Error::Thing(ThingError::VersionConflict { expected: 7, actual: 1, .. }))
        ));
        let mut both = UpdateThingRequest::new(name("t1"));
        both.remove_thing_type = true;
        both.thing_type_name = Some(ThingTypeName::parse("x").unwrap());
        assert!(matches!(update_thing(&both, &facts), Err(Error::Thing(ThingError::TypeAndRemoveType))));
        assert!(matches!(
            update_thing(&UpdateThingRequest::new(name("t9")), &ThingFacts::new()),
            Err(Error::Thing(ThingError::ThingNotFound { .. }))
        ));
    }

    #[test]
    fn delete_succeeds_when_absent_and_refuses_attached_things() {
        let thing = created(&CreateThingRequest::new(name("t1")));
        let request = DeleteThingRequest::new(name("t1"));
        assert_eq!(delete_thing(&request, None, 0), Ok(false));
        assert_eq!(delete_thing(&request, Some(&thing), 0), Ok(true));
        assert!(matches!(
            delete_thing(&request, Some(&thing), 2),
            Err(Error::Thing(ThingError::PrincipalsAttached { count: 2, .. }))
        ));
        let versioned = DeleteThingRequest { expected_version: Some(3), ..request };
        assert!(matches!(
            delete_thing(&versioned, Some(&thing), 0),
            Err(Error::Thing(ThingError::VersionConflict { .. }))
        ));
    }
}
