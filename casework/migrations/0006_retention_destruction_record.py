"""The register of destruction (파기 대장, DESIGN.md §3, §6), and retention for every closed
referral that kept its packet: those outside an agreement (escalations, referrals between
education offices) had no `packet_expires_on` and would have kept their packet for ever. They
get the default retention (settings.REFERRAL_PACKET_RETENTION_DAYS) counted from closing, with
a history row saying why. Reversing drops the register and leaves the dates (harmless: the
daily job destroys nothing before them)."""

import django.db.models.deletion
import simple_history.models
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

DEFAULT_RETENTION_DAYS = 365
CLOSED = ("completed", "declined", "cancelled")


def history_row(historical, obj, reason):
    """The history row a workflow save would have written (no request: no acting user)."""
    values = {
        f.attname: getattr(obj, f.attname)
        for f in historical._meta.concrete_fields
        if not f.name.startswith("history_")
    }
    historical.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=reason,
        history_user_id=None,
    )


def date_unexpiring_packets(apps, schema_editor):
    referral_model = apps.get_model("casework", "Referral")
    historical = apps.get_model("casework", "HistoricalReferral")
    days = getattr(settings, "REFERRAL_PACKET_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    rows = referral_model.objects.filter(
        status__in=CLOSED,
        packet__isnull=False,
        packet_expires_on__isnull=True,
        closed_at__isnull=False,
    ).select_related("agreement")
    for referral in rows.iterator():
        kept = referral.agreement.retention_days if referral.agreement_id else days
        referral.packet_expires_on = timezone.localdate(referral.closed_at) + timedelta(days=kept)
        referral.save(update_fields=["packet_expires_on"])
        history_row(historical, referral, "공유 정보 보관 기한 설정")


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0005_email_digest'),
        ('partners', '0002_history_for_tokens_and_role_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DestructionRecord',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('object_type', models.CharField(max_length=40, verbose_name='대상 종류')),
                ('object_id', models.UUIDField(verbose_name='대상 ID')),
                ('object_label', models.CharField(blank=True, max_length=100, verbose_name='대상')),
                ('parts', models.JSONField(default=list, verbose_name='파기한 항목')),
                ('action', models.CharField(choices=[('destroyed', '파기'), ('anonymised', '익명화')], default='destroyed', max_length=20, verbose_name='처리')),
                ('rule', models.CharField(choices=[('agreement_retention', '정보공유 협약의 보관 기간 경과'), ('default_retention', '협약 없는 의뢰의 기본 보관 기간 경과'), ('consent_withdrawn', '동의 철회')], max_length=40, verbose_name='근거 규칙')),
                ('rule_detail', models.CharField(blank=True, max_length=200, verbose_name='근거 상세')),
                ('due_on', models.DateField(blank=True, null=True, verbose_name='보관 기한')),
                ('destroyed_at', models.DateTimeField(verbose_name='파기일시')),
            ],
            options={
                'verbose_name': '파기 대장',
                'verbose_name_plural': '파기 대장',
                'ordering': ['-destroyed_at'],
                'default_permissions': ('view',),
            },
        ),
        migrations.CreateModel(
            name='HistoricalDestructionRecord',
            fields=[
                ('id', models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ('object_type', models.CharField(max_length=40, verbose_name='대상 종류')),
                ('object_id', models.UUIDField(verbose_name='대상 ID')),
                ('object_label', models.CharField(blank=True, max_length=100, verbose_name='대상')),
                ('parts', models.JSONField(default=list, verbose_name='파기한 항목')),
                ('action', models.CharField(choices=[('destroyed', '파기'), ('anonymised', '익명화')], default='destroyed', max_length=20, verbose_name='처리')),
                ('rule', models.CharField(choices=[('agreement_retention', '정보공유 협약의 보관 기간 경과'), ('default_retention', '협약 없는 의뢰의 기본 보관 기간 경과'), ('consent_withdrawn', '동의 철회')], max_length=40, verbose_name='근거 규칙')),
                ('rule_detail', models.CharField(blank=True, max_length=200, verbose_name='근거 상세')),
                ('due_on', models.DateField(blank=True, null=True, verbose_name='보관 기한')),
                ('destroyed_at', models.DateTimeField(verbose_name='파기일시')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
            ],
            options={
                'verbose_name': 'historical 파기 대장',
                'verbose_name_plural': 'historical 파기 대장',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddField(
            model_name='destructionrecord',
            name='case',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='destruction_records', to='casework.case', verbose_name='사례'),
        ),
        migrations.AddField(
            model_name='destructionrecord',
            name='destroyed_by',
            field=models.ForeignKey(blank=True, help_text='비어 있으면 매일 도는 보관 기간 작업이 처리한 것입니다.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='처리자'),
        ),
        migrations.AddField(
            model_name='historicaldestructionrecord',
            name='case',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='casework.case', verbose_name='사례'),
        ),
        migrations.AddField(
            model_name='historicaldestructionrecord',
            name='destroyed_by',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='비어 있으면 매일 도는 보관 기간 작업이 처리한 것입니다.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='처리자'),
        ),
        migrations.AddField(
            model_name='historicaldestructionrecord',
            name='history_user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='destructionrecord',
            index=models.Index(fields=['object_type', 'object_id'], name='casework_de_object__00e6cd_idx'),
        ),
        migrations.AddIndex(
            model_name='destructionrecord',
            index=models.Index(fields=['-destroyed_at'], name='casework_de_destroy_6bdc4d_idx'),
        ),
        migrations.RunPython(date_unexpiring_packets, migrations.RunPython.noop),
    ]
