"""factory_boy factories for the network. Memberships carry a current approval by default."""

from datetime import timedelta

import factory
from django.utils import timezone

from partners.choices import OrganizationKind, SchoolLevel
from partners.models import Agreement, Membership, Organization, Service, User

PASSWORD = "test-password-2026"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"기관{n}")
    kind = OrganizationKind.PARTNER_AGENCY
    agency_type = "youth_counselling"


class BoroughFactory(OrganizationFactory):
    kind = OrganizationKind.LOCAL_GOVERNMENT
    agency_type = ""
    code = factory.Sequence(lambda n: f"LG{n:05d}")
    region_code = factory.Sequence(lambda n: f"{90000 + n:05d}")
    name = factory.Sequence(lambda n: f"가상구{n}")


class ProvincialOfficeFactory(OrganizationFactory):
    kind = OrganizationKind.PROVINCIAL_OFFICE
    agency_type = ""
    name = factory.Sequence(lambda n: f"가상시교육청{n}")


class DistrictOfficeFactory(OrganizationFactory):
    kind = OrganizationKind.DISTRICT_OFFICE
    agency_type = ""
    name = factory.Sequence(lambda n: f"가상교육지원청{n}")
    parent = factory.SubFactory(ProvincialOfficeFactory)


class SchoolFactory(OrganizationFactory):
    kind = OrganizationKind.SCHOOL
    agency_type = ""
    school_level = SchoolLevel.ELEMENTARY
    name = factory.Sequence(lambda n: f"가상초등학교{n}")
    parent = factory.SubFactory(DistrictOfficeFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"사용자{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(SchoolFactory)
    role = "teacher"
    approved_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    approval_expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=335))
    training_completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    office = factory.SubFactory(ProvincialOfficeFactory)
    partner = factory.SubFactory(OrganizationFactory)
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))
    security_officer_name = "정보보호"
    allowed_fields = factory.LazyFunction(lambda: ["student_name", "grade"])


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"서비스{n}")
    domains = factory.LazyFunction(lambda: ["counselling"])
    support_types = factory.LazyFunction(lambda: ["counselling"])


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Student"

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"학생{n}")
    birth_date = factory.LazyFunction(lambda: timezone.localdate().replace(year=2016, day=1))
    sex = "female"
    grade = 4
    class_no = 2
    number = factory.Sequence(lambda n: n % 30 + 1)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Case"

    number = factory.Sequence(lambda n: f"2026-S0001-{n:04d}")
    owner = factory.SubFactory(SchoolFactory)
    lead = factory.SelfAttribute("owner")
    student = factory.SubFactory(StudentFactory, school=factory.SelfAttribute("..owner"))


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Referral"

    case = factory.SubFactory(CaseFactory)
    kind = "service"
    from_organization = factory.SelfAttribute("case.owner")
    to_organization = factory.SubFactory(OrganizationFactory)
    reason = "정서 지원 필요"
    legal_basis = "emergency"
    justification = "시험 자료"
