//! Thing types and thing groups, as far as provisioning templates need them (rule 10.1):
//! CreateThingType, DescribeThingType, CreateThingGroup, DescribeThingGroup,
//! AddThingToThingGroup.

use rand_core::CryptoRng;

use crate::error::{Error, ThingError};
use crate::model::attributes::{AttributePayload, Attributes};
use crate::model::description::generation_id;
use crate::model::names::{ThingGroupName, ThingName, ThingTypeName};
use crate::model::scope::AccountScope;
use crate::model::tags::Tags;
use crate::x509::time::UnixTime;

/// A thing type as the registry keeps it (DescribeThingType's members).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingTypeDescription {
    /// thingTypeName.
    pub thing_type_name: ThingTypeName,
    /// thingTypeId: a UUID v4.
    pub thing_type_id: String,
    /// thingTypeArn.
    pub thing_type_arn: String,
    /// thingTypeProperties.thingTypeDescription.
    pub description: Option<String>,
    /// thingTypeProperties.searchableAttributes.
    pub searchable_attributes: Vec<String>,
    /// thingTypeMetadata.creationDate.
    pub creation_date: UnixTime,
    /// tags.
    pub tags: Tags,
}

/// CreateThingType's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateThingTypeRequest {
    /// thingTypeName.
    pub thing_type_name: ThingTypeName,
    /// thingTypeProperties.thingTypeDescription.
    pub description: Option<String>,
    /// thingTypeProperties.searchableAttributes.
    pub searchable_attributes: Vec<String>,
    /// tags.
    pub tags: Tags,
}

impl CreateThingTypeRequest {
    /// A type named `thing_type_name`, with no properties.
    #[must_use]
    pub fn new(thing_type_name: ThingTypeName) -> Self {
        Self { thing_type_name, description: None, searchable_attributes: Vec::new(), tags: Tags::default() }
    }
}

/// CreateThingType.
///
/// # Errors
/// [`ThingError::ThingTypeExists`] when the scope holds a type by that name.
pub fn create_thing_type<R: CryptoRng + ?Sized>(
    request: &CreateThingTypeRequest,
    existing: Option<&ThingTypeDescription>,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<ThingTypeDescription, Error> {
    if let Some(existing) = existing {
        return Err(ThingError::ThingTypeExists {
            thing_type_name: existing.thing_type_name.to_string(),
            thing_type_arn: existing.thing_type_arn.clone(),
        }
        .into());
    }
    Ok(ThingTypeDescription {
        thing_type_name: request.thing_type_name.clone(),
        thing_type_id: generation_id(rng),
        thing_type_arn: scope.thing_type_arn(&request.thing_type_name),
        description: request.description.clone(),
        searchable_attributes: request.searchable_attributes.clone(),
        creation_date: now,
        tags: request.tags.clone(),
    })
}

/// DescribeThingType.
///
/// # Errors
/// [`ThingError::ThingTypeNotFound`].
pub fn describe_thing_type<'a>(
    name: &ThingTypeName,
    stored: Option<&'a ThingTypeDescription>,
) -> Result<&'a ThingTypeDescription, Error> {
    stored.ok_or_else(|| ThingError::ThingTypeNotFound { thing_type_name: name.to_string() }.into())
}

/// A thing group as the registry keeps it (DescribeThingGroup's members).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingGroupDescription {
    /// thingGroupName.
    pub thing_group_name: ThingGroupName,
    /// thingGroupId: a UUID v4.
    pub thing_group_id: String,
    /// thingGroupArn.
    pub thing_group_arn: String,
    /// version.
    pub version: i64,
    /// thingGroupProperties.thingGroupDescription.
    pub description: Option<String>,
    /// thingGroupProperties.attributePayload.attributes.
    pub attributes: Attributes,
    /// thingGroupMetadata.parentGroupName.
    pub parent_group_name: Option<ThingGroupName>,
    /// thingGroupMetadata.rootToParentThingGroups: (name, ARN) from the root down to the parent.
    pub root_to_parent: Vec<(ThingGroupName, String)>,
    /// thingGroupMetadata.creationDate.
    pub creation_date: UnixTime,
    /// tags.
    pub tags: Tags,
}

/// Deepest nesting of thing groups (AWS IoT quota: 7 levels).
pub const MAX_GROUP_DEPTH: usize = 7;

/// CreateThingGroup's members.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateThingGroupRequest {
    /// thingGroupName.
    pub thing_group_name: ThingGroupName,
    /// parentGroupName.
    pub parent_group_name: Option<ThingGroupName>,
    /// thingGroupProperties.thingGroupDescription.
    pub description: Option<String>,
    /// thingGroupProperties.attributePayload.
    pub attribute_payload: Option<AttributePayload>,
    /// tags.
    pub tags: Tags,
}

impl CreateThingGroupRequest {
    /// A group named `thing_group_name` at the root, with no properties.
    #[must_use]
    pub fn new(thing_group_name: ThingGroupName) -> Self {
        Self {
            thing_group_name,
            parent_group_name: None,
            description: None,
            attribute_payload: None,
            tags: Tags::default(),
        }
    }
}

/// What CreateThingGroup decided: the group, and whether it is to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingGroupCreation {
    /// The group.
    pub group: ThingGroupDescription,
    /// `true` when it is new.
    pub created: bool,
}

/// CreateThingGroup: the same name with the same parent, description and attributes answers
/// the group that exists (our rule, as CreateThing); another configuration is
/// ResourceAlreadyExistsException. The parent must exist, and nesting stops at
/// [`MAX_GROUP_DEPTH`] levels.
///
/// # Errors
/// [`ThingError::ThingGroupExists`], [`ThingError::ThingGroupNotFound`] (the parent).
pub fn create_thing_group<R: CryptoRng + ?Sized>(
    request: &CreateThingGroupRequest,
    existing: Option<&ThingGroupDescription>,
    parent: Option<&ThingGroupDescription>,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<ThingGroupCreation, Error> {
    let attributes = match &request.attribute_payload {
        Some(payload) => Attributes::default().applied(&payload.attributes, false)?,
        None => Attributes::default(),
    };
    if let Some(existing) = existing {
        if existing.parent_group_name == request.parent_group_name
            && existing.description == request.description
            && existing.attributes == attributes
        {
            return Ok(ThingGroupCreation { group: existing.clone(), created: false });
        }
        return Err(ThingError::ThingGroupExists {
            thing_group_name: existing.thing_group_name.to_string(),
            thing_group_arn: existing.thing_group_arn.clone(),
        }
        .into());
    }
    let root_to_parent = match (&request.parent_group_name, parent) {
        (None, _) => Vec::new(),
        (Some(name), None) => {
            return Err(ThingError::ThingGroupNotFound { thing_group_name: name.to_string() }.into());
        }
        (Some(_), Some(parent)) => {
            let mut chain = parent.root_to_parent.clone();
            chain.push((parent.thing_group_name.clone(), parent.thing_group_arn.clone()));
            if chain.len() >= MAX_GROUP_DEPTH {
                return Err(
                    ThingError::ThingGroupNotFound { thing_group_name: parent.thing_group_name.to_string() }.into()
                );
            }
            chain
        }
    };
    Ok(ThingGroupCreation {
        group: ThingGroupDescription {
            thing_group_name: request.thing_group_name.clone(),
            thing_group_id: generation_id(rng),
            thing_group_arn: scope.thing_group_arn(&request.thing_group_name),
            version: 1,
            description: request.description.clone(),
            attributes,
            parent_group_name: request.parent_group_name.clone(),
            root_to_parent,
            creation_date: now,
            tags: request.tags.clone(),
        },
        created: true,
    })
}

/// DescribeThingGroup.
///
/// # Errors
/// [`ThingError::ThingGroupNotFound`].
pub fn describe_thing_group<'a>(
    name: &ThingGroupName,
    stored: Option<&'a ThingGroupDescription>,
) -> Result<&'a ThingGroupDescription, Error> {
    stored.ok_or_else(|| ThingError::ThingGroupNotFound { thing_group_name: name.to_string() }.into())
}

/// A thing or a thing group named by name or by ARN (AddThingToThingGroup takes either).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddThingToThingGroupRequest {
    /// The group.
    pub thing_group_name: ThingGroupName,
    /// The thing.
    pub thing_name: ThingName,
}

impl AddThingToThingGroupRequest {
    /// Reads the four members: exactly one of `thingGroupName` and `thingGroupArn`, and one of
    /// `thingName` and `thingArn`; an ARN must be one of `scope`'s.
    ///
    /// # Errors
    /// [`ThingError::NameOrArn`] (InvalidRequestException); a name outside its rules;
    /// [`ThingError::ThingGroupNotFound`] / [`ThingError::ThingNotFound`] for an ARN that is not
    /// one of the scope's groups or things.
    pub fn from_members(
        scope: &AccountScope,
        group_name: Option<&str>,
        group_arn: Option<&str>,
        thing_name: Option<&str>,
        thing_arn: Option<&str>,
    ) -> Result<Self, Error> {
        let group = match (group_name, group_arn) {
            (Some(name), None) => ThingGroupName::parse(name)?,
            (None, Some(arn)) => {
                let name = scope.name_in_arn(arn, "thinggroup").ok_or_else(|| ThingError::ThingGroupNotFound {
                    thing_group_name: arn.chars().take(256).collect(),
                })?;
                ThingGroupName::parse_member(name, "thingGroupArn")?
            }
            _ => return Err(ThingError::NameOrArn { member: "thingGroup" }.into()),
        };
        let thing = match (thing_name, thing_arn) {
            (Some(name), None) => ThingName::parse(name)?,
            (None, Some(arn)) => {
                let name = scope
                    .name_in_arn(arn, "thing")
                    .ok_or_else(|| ThingError::ThingNotFound { thing_name: arn.chars().take(256).collect() })?;
                ThingName::parse_member(name, "thingArn")?
            }
            _ => return Err(ThingError::NameOrArn { member: "thing" }.into()),
        };
        Ok(Self { thing_group_name: group, thing_name: thing })
    }
}

/// AddThingToThingGroup: both must exist. Adding a thing already in the group is a success.
///
/// # Errors
/// [`ThingError::ThingGroupNotFound`], [`ThingError::ThingNotFound`].
pub fn add_thing_to_thing_group(
    request: &AddThingToThingGroupRequest,
    group_exists: bool,
    thing_exists: bool,
) -> Result<(), Error> {
    if !group_exists {
        return Err(ThingError::ThingGroupNotFound { thing_group_name: request.thing_group_name.to_string() }.into());
    }
    if !thing_exists {
        return Err(ThingError::ThingNotFound { thing_name: request.thing_name.to_string() }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
    }

    fn rng() -> impl CryptoRng {
        <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(2)
    }

    const NOW: UnixTime = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z

    #[test]
    fn thing_types_are_created_once() {
        let request = CreateThingTypeRequest::new(ThingTypeName::parse("sensor").unwrap());
        let t = create_thing_type(&request, None, &scope(), &mut rng(), NOW).unwrap();
        assert_eq!(t.thing_type_arn, "arn:aws:iot:us-east-1:123456789012:thingtype/sensor");
        assert!(matches!(
            create_thing_type(&request, Some(&t), &scope(), &mut rng(), NOW),
            Err(Error::Thing(ThingError::ThingTypeExists { .. }))
        ));
        assert!(matches!(
            describe_thing_type(&request.thing_type_name, None),
            Err(Error::Thing(ThingError::ThingTypeNotFound { .. }))
        ));
    }

    #[test]
    fn groups_nest_under_existing_parents() {
        let root = create_thing_group(
            &CreateThingGroupRequest::new(ThingGroupName::parse("root").unwrap()),
            None,
            None,
            &scope(),
            &mut rng(),
            NOW,
        )
        .unwrap()
        .group;
        let mut child = CreateThingGroupRequest::new(ThingGroupName::parse("child").unwrap());
        child.parent_group_name = Some(root.thing_group_name.clone());
        assert!(matches!(
            create_thing_group(&child, None, None, &scope(), &mut rng(), NOW),
            Err(Error::Thing(ThingError::ThingGroupNotFound { .. }))
        ));
        let made = create_thing_group(&child, None, Some(&root), &scope(), &mut rng(), NOW).unwrap();
        assert!(made.created);
        assert_eq!(made.group.root_to_parent, [(root.thing_group_name.clone(), root.thing_group_arn.clone())]);
        let again = create_thing_group(&child, Some(&made.group), Some(&root), &scope(), &mut rng(), NOW).unwrap();
        assert!(!again.created);
        let mut other = child.clone();
        other.description = Some("x".into());
        assert!(matches!(
            create_thing_group(&other, Some(&made.group), Some(&root), &scope(), &mut rng(), NOW),
            Err(Error::Thing(ThingError::ThingGroupExists { .. }))
        ));
    }

    #[test]
    fn add_thing_to_group_takes_names_or_arns_of_the_scope() {
        let s = scope();
        let r = AddThingToThingGroupRequest::from_members(
            &s,
            None,
            Some("arn:aws:iot:us-east-1:123456789012:thinggroup/g1"),
            Some("t1"),
            None,
        )
        .unwrap();
        assert_eq!((r.thing_group_name.as_str(), r.thing_name.as_str()), ("g1", "t1"));
        assert!(matches!(
            AddThingToThingGroupRequest::from_members(&s, Some("g"), Some("x"), Some("t"), None),
            Err(Error::Thing(ThingError::NameOrArn { member: "thingGroup" }))
        ));
        assert!(matches!(
            AddThingToThingGroupRequest::from_members(
                &s,
                Some("g"),
                None,
                None,
                Some("arn:aws:iot:us-east-1:999999999999:thing/t")
            ),
            Err(Error::Thing(ThingError::ThingNotFound { .. }))
        ));
        assert!(matches!(
            add_thing_to_thing_group(&r, false, true),
            Err(Error::Thing(ThingError::ThingGroupNotFound { .. }))
        ));
        assert!(matches!(
            add_thing_to_thing_group(&r, true, false),
            Err(Error::Thing(ThingError::ThingNotFound { .. }))
        ));
        assert_eq!(add_thing_to_thing_group(&r, true, true), Ok(()));
    }
}
