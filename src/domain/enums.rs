//! The closed vocabularies of the registry. Each is stored as its snake_case name.

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The stored or query-string form; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            pub fn expected() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("one of {}", names.join(", "))
            }
        }
    };
}

text_enum!(
    /// What kind of event this is: `meeting` (any other meeting), `board_meeting` (of a board
    /// such as the IISG Board), `network_meeting` (of a standing network such as the RNNC; give
    /// `network_id` and `series_number`), `coordination_meeting`, `conference`, `forum`
    /// (e.g. a ministerial forum), `workshop`, `training` or `other`.
    EventKind {
        Meeting => "meeting",
        BoardMeeting => "board_meeting",
        NetworkMeeting => "network_meeting",
        CoordinationMeeting => "coordination_meeting",
        Conference => "conference",
        Forum => "forum",
        Workshop => "workshop",
        Training => "training",
        Other => "other",
    }
);

text_enum!(
    /// Where the event stands: `scheduled` (the default: it takes place as given), `tentative`
    /// (dates not confirmed), `postponed` (moved to dates not yet known), `rescheduled` (moved
    /// to the dates now given), `cancelled` (will not take place; it keeps its place in a
    /// chain) or `moved_online` (takes place online instead of in person).
    EventStatus {
        Scheduled => "scheduled",
        Tentative => "tentative",
        Postponed => "postponed",
        Rescheduled => "rescheduled",
        Cancelled => "cancelled",
        MovedOnline => "moved_online",
    }
);

text_enum!(
    /// How people attend: `in_person` (the default), `online` or `hybrid` (both).
    AttendanceMode {
        InPerson => "in_person",
        Online => "online",
        Hybrid => "hybrid",
    }
);

text_enum!(
    /// Where a comment stands: `pending` (the default: waiting for an editor, shown to no one
    /// else), `approved` (shown to everyone) or `rejected` (kept, shown to no one but editors).
    CommentStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

text_enum!(
    /// Who may see the record: `public` (the default: anyone, without a token) or `internal`
    /// (only callers with a token of any role; to others it does not exist, and answers 404).
    Visibility {
        Public => "public",
        Internal => "internal",
    }
);

text_enum!(
    /// An organisation's part in organising an event: `organiser`, `co_organiser`, `host`
    /// (provides the venue or receives the guests), `funder`, `supporter` or
    /// `implementing_partner`.
    OrganiserRole {
        Organiser => "organiser",
        CoOrganiser => "co_organiser",
        Host => "host",
        Funder => "funder",
        Supporter => "supporter",
        ImplementingPartner => "implementing_partner",
    }
);

text_enum!(
    /// A person's or organisation's part in an event: `chair`, `co_chair`, `speaker`,
    /// `participant`, `observer`, `invitee` (invited; attendance not known) or `host`.
    /// `host` is for whoever hosts in person (a person cannot be an organiser); an organisation
    /// that hosts is an organiser with the role `host`. `chair` and `co_chair` also fit an
    /// organisation that holds the chairmanship.
    ParticipantRole {
        Chair => "chair",
        CoChair => "co_chair",
        Speaker => "speaker",
        Participant => "participant",
        Observer => "observer",
        Invitee => "invitee",
        Host => "host",
    }
);

text_enum!(
    /// What kind of organisation this is: `eu_institution` (an EU institution, body or
    /// delegation), `international_organisation`, `regional_organisation`, `government` (a
    /// state or its government), `ministry`, `embassy`, `ngo`, `academic` (a university or
    /// institute), `programme` (a funded programme or project) or `other`.
    OrganisationKind {
        EuInstitution => "eu_institution",
        InternationalOrganisation => "international_organisation",
        RegionalOrganisation => "regional_organisation",
        Government => "government",
        Ministry => "ministry",
        Embassy => "embassy",
        Ngo => "ngo",
        Academic => "academic",
        Programme => "programme",
        Other => "other",
    }
);

text_enum!(
    /// A member's part in a network: `member`, `chair`, `co_chair`, `secretariat`, `observer`,
    /// `lead_partner` or `focal_point` (a country's national focal point or coordinator).
    MembershipRole {
        Member => "member",
        Chair => "chair",
        CoChair => "co_chair",
        Secretariat => "secretariat",
        Observer => "observer",
        LeadPartner => "lead_partner",
        FocalPoint => "focal_point",
    }
);

text_enum!(
    /// What kind of undertaking a programme is: `programme` (a funding programme such as the
    /// Horizontal Facility), `action` (a funded action, e.g. one regional action of an IPA
    /// instrument), `project` (a project under a programme) or `plan` (a plan of activities,
    /// such as an indicative plan of actions).
    ProgrammeKind {
        Programme => "programme",
        Action => "action",
        Project => "project",
        Plan => "plan",
    }
);

text_enum!(
    /// Where a programme stands: `planned` (agreed, not started), `drafting` (still being
    /// drafted), `active` (under way), `completed` or `cancelled`.
    ProgrammeStatus {
        Planned => "planned",
        Drafting => "drafting",
        Active => "active",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// An organisation's part in a programme: `funder`, `coordinator`, `implementing_partner`,
    /// `beneficiary` or `lead_partner`.
    ProgrammeRole {
        Funder => "funder",
        Coordinator => "coordinator",
        ImplementingPartner => "implementing_partner",
        Beneficiary => "beneficiary",
        LeadPartner => "lead_partner",
    }
);

text_enum!(
    /// What a token may do: `reader` also sees internal records and contact fields, `editor`
    /// also writes, `admin` also manages tokens and reads the audit log.
    Role {
        Reader => "reader",
        Editor => "editor",
        Admin => "admin",
    }
);

impl Role {
    /// Whether this role includes everything `other` may do.
    pub fn includes(self, other: Role) -> bool {
        let rank = |role: Role| match role {
            Role::Reader => 1,
            Role::Editor => 2,
            Role::Admin => 3,
        };
        rank(self) >= rank(other)
    }
}

text_enum!(
    /// What kind of publication this is: `report`, `study`, `terms_of_reference`,
    /// `conclusions`, `declaration`, `agenda`, `minutes` or `presentation`.
    PublicationKind {
        Report => "report",
        Study => "study",
        TermsOfReference => "terms_of_reference",
        Conclusions => "conclusions",
        Declaration => "declaration",
        Agenda => "agenda",
        Minutes => "minutes",
        Presentation => "presentation",
    }
);

text_enum!(
    /// What happened to a publication at an event: `presented` there, `endorsed` or `adopted`
    /// by it, or `prepared_for` it (an agenda, a draft for endorsement).
    PublicationRole {
        Presented => "presented",
        Endorsed => "endorsed",
        Adopted => "adopted",
        PreparedFor => "prepared_for",
    }
);

text_enum!(
    /// What an event decided or left to do: a `decision`, a `conclusion`, an `endorsement`
    /// (of a document, e.g. terms of reference) or a `follow_up` action.
    OutcomeKind {
        Decision => "decision",
        Conclusion => "conclusion",
        Endorsement => "endorsement",
        FollowUp => "follow_up",
    }
);

text_enum!(
    /// Where an outcome stands: `open` (still to be done), `done` or `dropped`.
    OutcomeStatus {
        Open => "open",
        Done => "done",
        Dropped => "dropped",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_match_json() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json.as_str(), Some(kind.as_str()));
        }
        for status in EventStatus::ALL {
            let json = serde_json::to_value(status).unwrap_or_default();
            assert_eq!(json.as_str(), Some(status.as_str()));
        }
        assert_eq!(EventStatus::parse("Cancelled"), None);
    }

    #[test]
    fn roles_include_the_weaker_ones() {
        assert!(Role::Admin.includes(Role::Editor) && Role::Editor.includes(Role::Reader));
        assert!(!Role::Reader.includes(Role::Editor) && !Role::Editor.includes(Role::Admin));
    }
}
