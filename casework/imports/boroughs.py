"""The boroughs a roster names, by code or by name."""

from collections import defaultdict

from django.utils.translation import gettext as _

from partners.models import Organization


class Boroughs:
    """Resolves a borough written as its 5-digit 행정표준코드 or its name (금천구, 서울특별시
    금천구). Names such as 중구 or 동구 recur across cities, so a bare name is read within the
    school's own city or province."""

    def __init__(self, school: Organization | None):
        self.by_code: dict[str, Organization] = {}
        self.by_name: dict[str, list[Organization]] = defaultdict(list)
        for borough in Organization.objects.boroughs():
            if borough.region_code:
                self.by_code[borough.region_code] = borough
            self.by_name[borough.name.split()[-1]].append(borough)
        self.school = school
        self._home: set[str] | None = None
        self._resolved: dict[str, tuple[Organization | None, str | None]] = {}

    def home(self) -> set[str]:
        if self._home is None:
            school = self.school
            if school is None:
                self._home = set()
            elif school.region_code:
                self._home = {school.region_code[:2]}
            elif school.parent_id is None:
                self._home = set()
            else:
                covered = Organization.objects.filter(covered_by=school.parent_id)
                self._home = {code[:2] for code in covered.values_list("region_code", flat=True)}
        return self._home

    def resolve(self, text: str) -> tuple[Organization | None, str | None]:
        # A roster names the same few boroughs on every row.
        if text not in self._resolved:
            self._resolved[text] = self._resolve(text)
        return self._resolved[text]

    def _resolve(self, text: str) -> tuple[Organization | None, str | None]:
        if text.isdigit():
            if text in self.by_code:
                return self.by_code[text], None
            return None, _("알 수 없는 자치구입니다: %s") % text
        candidates = self.by_name.get(text.split()[-1], [])
        if len(candidates) > 1 and len(text.split()) > 1:  # "광주광역시 동구" names the city
            exact = [b for b in candidates if b.name.replace(" ", "") == text.replace(" ", "")]
            if len(exact) == 1:
                return exact[0], None
        if len(candidates) > 1:
            candidates = [b for b in candidates if b.region_code[:2] in self.home()] or candidates
        if len(candidates) == 1:
            return candidates[0], None
        if candidates:
            return None, _(
                "같은 이름의 자치구가 여러 곳입니다. 5자리 행정표준코드로 적어 주세요: %s"
            ) % text
        return None, _("알 수 없는 자치구입니다: %s") % text
