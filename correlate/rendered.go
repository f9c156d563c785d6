package correlate

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/portmortem/portmortem/parsers"
)

// Events read from text exports (Event Viewer's CSV and TXT,
// Get-WinEvent/Get-EventLog | Export-Csv) carry no insertion strings: only
// the message, rendered in the server's UI language. renderedParams turns
// such a message back into the insertion strings the decoders read, by
// matching it against the localized templates of the Service Control
// Manager's messages (services.exe's message table). The error insertion
// comes back as the rendered error text, which CodeFromText reads in the
// same languages (localizedTexts). Each text and its source is listed in
// testdata/SOURCES-rendered.md; texts marked unverified there were not
// found in public material as Windows prints them.

// renderedTemplate is one localized message template: %1…%9 are the
// insertion strings, %n a line break, and a trailing %* stands for text
// that is ignored (the corrective-action part of 7031).
type renderedTemplate struct {
	id   uint16
	lang string
	text string
}

// renderedSCMTemplates are the localized SCM templates portmortem reads.
var renderedSCMTemplates = []renderedTemplate{
	// 7000 SERVICE_START_FAILED
	{7000, "en", "The %1 service failed to start due to the following error: %n%2"},
	{7000, "de", "Der Dienst %1 wurde aufgrund folgenden Fehlers nicht gestartet: %n%2"},
	{7000, "fr", "Le service %1 n'a pas pu démarrer en raison de l'erreur suivante : %n%2"},
	{7000, "fr", "Le service %1 n'a pas pu démarrer en raison de l'erreur : %n%2"},
	{7000, "es", "El servicio %1 no pudo iniciarse debido al siguiente error: %n%2"},
	{7000, "it", "Impossibile avviare il servizio %1 a causa del seguente errore: %n%2"},
	{7000, "it", "Il servizio %1 non è stato avviato a causa del seguente errore: %n%2"},
	{7000, "pt", "O serviço %1 falhou ao iniciar devido ao seguinte erro: %n%2"},
	{7000, "nl", "De service %1 kan niet worden gestart vanwege de volgende fout: %n%2"},
	{7000, "ru", "Не удалось запустить службу %1 из-за следующей ошибки: %n%2"},
	{7000, "ru", "Служба %1 не запущена из-за ошибки: %n%2"},
	{7000, "pl", "Usługa %1 nie może zostać uruchomiona z powodu następującego błędu: %n%2"},
	{7000, "pl", "Nie można uruchomić usługi %1 z powodu następującego błędu: %n%2"},
	{7000, "ja", "%1 サービスを、次のエラーが原因で開始できませんでした: %n%2"},
	{7000, "zh", "由于下列错误，%1 服务启动失败: %n%2"},
	{7000, "ko", "다음 오류 때문에 %1 서비스를 시작하지 못했습니다. %n%2"},
	// 7001 SERVICE_START_FAILED_II (dependency)
	{7001, "en", "The %1 service depends on the %2 service which failed to start because of the following error: %n%3"},
	{7001, "de", "Der Dienst %1 ist vom Dienst %2 abhängig, der aufgrund folgenden Fehlers nicht gestartet wurde: %n%3"},
	{7001, "fr", "Le service %1 dépend du service %2 qui n'a pas pu démarrer en raison de l'erreur : %n%3"},
	{7001, "es", "El servicio %1 depende del servicio %2, que no pudo iniciarse debido al siguiente error: %n%3"},
	{7001, "zh", "%1 服务依赖于 %2 服务，而该服务因下列错误而未能启动: %n%3"},
	// 7009 / 7011 timeouts (the service is %2)
	{7009, "en", "A timeout was reached (%1 milliseconds) while waiting for the %2 service to connect."},
	{7009, "de", "Das Zeitlimit (%1 ms) wurde beim Verbindungsversuch mit dem Dienst %2 erreicht."},
	{7009, "es", "Se agotó el tiempo de espera (%1 ms) para la conexión con el servicio %2."},
	{7009, "zh", "等待 %2 服务的连接超时(%1 毫秒)。"},
	{7011, "en", "A timeout (%1 milliseconds) was reached while waiting for a transaction response from the %2 service."},
	// 7022 hung on starting
	{7022, "en", "The %1 service hung on starting."},
	{7022, "de", "Der Dienst %1 hängt beim Starten."},
	// 7023 SERVICE_EXIT_FAILED
	{7023, "en", "The %1 service terminated with the following error: %n%2"},
	{7023, "de", "Der Dienst %1 wurde mit folgendem Fehler beendet: %n%2"},
	{7023, "fr", "Le service %1 s'est arrêté avec l'erreur suivante : %n%2"},
	{7023, "fr", "Le service %1 s'est arrêté avec l'erreur : %n%2"},
	{7023, "es", "El servicio %1 terminó con el siguiente error: %n%2"},
	{7023, "it", "Il servizio %1 è stato interrotto con il seguente errore: %n%2"},
	{7023, "pt", "O serviço %1 foi encerrado com o seguinte erro: %n%2"},
	{7023, "nl", "De service %1 is beëindigd met de volgende fout: %n%2"},
	{7023, "ru", "Служба %1 завершена из-за ошибки: %n%2"},
	{7023, "pl", "Usługa %1 zakończyła działanie; wystąpił następujący błąd: %n%2"},
	{7023, "ja", "%1 サービスは、次のエラーで終了しました: %n%2"},
	{7023, "zh", "%1 服务因下列错误而停止: %n%2"},
	{7023, "ko", "%1 서비스가 다음 오류 때문에 종료되었습니다. %n%2"},
	{7023, "ko", "다음 오류 때문에 %1 서비스가 종료되었습니다. %n%2"},
	// 7024 SERVICE_EXIT_FAILED_SPECIFIC
	{7024, "en", "The %1 service terminated with the following service-specific error: %n%2"},
	{7024, "en", "The %1 service terminated with service-specific error %2."},
	{7024, "de", "Der Dienst %1 wurde mit dem folgenden dienstspezifischen Fehler beendet: %n%2"},
	{7024, "fr", "Le service %1 s'est arrêté avec l'erreur spécifique au service suivante : %n%2"},
	{7024, "es", "El servicio %1 terminó con el siguiente error específico del servicio: %n%2"},
	{7024, "zh", "%1 服务因 %2 服务性错误而停止。"},
	// 7031 / 7034 crashes
	{7031, "en", "The %1 service terminated unexpectedly. It has done this %2 time(s). %*"},
	{7031, "de", "Der Dienst %1 wurde unerwartet beendet. Dies ist bereits %2 Mal passiert. %*"},
	{7031, "fr", "Le service %1 s'est arrêté de façon inattendue. Il s'est produit %2 fois. %*"},
	{7031, "es", "El servicio %1 terminó inesperadamente. Esto ha sucedido %2 veces. %*"},
	{7031, "zh", "%1 服务意外终止，这是第 %2 次。 %*"},
	{7034, "en", "The %1 service terminated unexpectedly. It has done this %2 time(s)."},
	{7034, "de", "Der Dienst %1 wurde unerwartet beendet. Dies ist bereits %2 Mal passiert."},
	{7034, "fr", "Le service %1 s'est arrêté de façon inattendue. Il s'est produit %2 fois."},
	{7034, "es", "El servicio %1 terminó inesperadamente. Esto ha sucedido %2 veces."},
	{7034, "zh", "%1 服务意外终止，这是第 %2 次。"},
}

// compiledTemplate is a template as a regular expression; params[i] is
// the insertion number of submatch i+1.
type compiledTemplate struct {
	renderedTemplate
	re     *regexp.Regexp
	params []int
}

var compiledSCMTemplates = compileTemplates(renderedSCMTemplates)

var templateToken = regexp.MustCompile(`%[1-9n*]`)

func compileTemplates(ts []renderedTemplate) []compiledTemplate {
	out := make([]compiledTemplate, 0, len(ts))
	for _, t := range ts {
		var b strings.Builder
		var params []int
		b.WriteString(`(?s)^\s*`)
		last := 0
		text := foldRendered(t.text)
		for _, loc := range templateToken.FindAllStringIndex(text, -1) {
			b.WriteString(literalPattern(text[last:loc[0]]))
			switch tok := text[loc[0]+1]; tok {
			case 'n':
				b.WriteString(`\s*`)
			case '*':
				b.WriteString(`.*`)
			default:
				b.WriteString(`(.+?)`)
				params = append(params, int(tok-'0'))
			}
			last = loc[1]
		}
		b.WriteString(literalPattern(text[last:]))
		b.WriteString(`\s*$`)
		out = append(out, compiledTemplate{renderedTemplate: t, re: regexp.MustCompile(b.String()), params: params})
	}
	return out
}

// literalPattern quotes a template's literal text, letting any run of
// white space match any other (or none, around punctuation that some
// languages space and others do not).
func literalPattern(s string) string {
	var b strings.Builder
	for i, f := range strings.Fields(s) {
		if i > 0 {
			b.WriteString(`\s+`)
		}
		b.WriteString(regexp.QuoteMeta(f))
	}
	p := b.String()
	if strings.TrimSpace(s) != s && p != "" {
		// Leading or trailing space next to an insertion: optional, as
		// exports sometimes drop it.
		if s[0] == ' ' {
			p = `\s*` + p
		}
		if s[len(s)-1] == ' ' {
			p += `\s*`
		}
	}
	if p == "" && s != "" {
		return `\s*`
	}
	// A colon may be spaced or not ("erreur : " / "error:"); the fields
	// are joined with \s+, so a spaced colon is the only form to relax.
	return strings.ReplaceAll(p, `\s+:`, `\s*:`)
}

// foldRendered normalizes the characters exports vary in: typographic
// apostrophes, no-break spaces, CRLF, and the doubled spaces of the
// English templates.
func foldRendered(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '’', '‘', 'ʼ':
			return '\''
		case '\u00a0', '\u202f':
			return ' '
		case '\r':
			return -1
		}
		return r
	}, s)
}

// renderedParams recovers the insertion strings of an SCM event read from
// a text export: ok is false when ev carries insertion strings already, or
// when no template matches its message.
func renderedParams(ev *parsers.Event) (fields []parsers.Field, lang string, ok bool) {
	if len(ev.Data) > 0 || strings.TrimSpace(ev.Message) == "" {
		return nil, "", false
	}
	msg := foldRendered(ev.Message)
	for _, t := range compiledSCMTemplates {
		if t.id != ev.EventID {
			continue
		}
		m := t.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		n := 0
		for _, p := range t.params {
			n = max(n, p)
		}
		fields = make([]parsers.Field, n)
		for i := range fields {
			fields[i].Name = "param" + strconv.Itoa(i+1)
		}
		for i, p := range t.params {
			v := strings.TrimSpace(m[i+1])
			if p == 1 || (p == 2 && (ev.EventID == 7001 || ev.EventID == 7009 || ev.EventID == 7011)) {
				v = trimNameQuotes(v)
			}
			fields[p-1].Value = v
		}
		return fields, t.lang, true
	}
	return nil, "", false
}

// trimNameQuotes removes the quotes some languages put around a service
// name ("…", „…“, «…», 「…」).
func trimNameQuotes(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'„“”«»「」『』", r)
	})
}

// ResolveLocalBoots returns boots with the wall-clock times of markers
// read from text exports (BootRef.TimeLocal) converted to UTC with the
// host's offset, unknown without one (boots carry no offset of their own
// there); boots is copied only when one is local. Sessions are built from
// what it returns, by Analyze and by the store's conversion at commit
// alike.
func ResolveLocalBoots(boots []BootRef, offset time.Duration, has bool) []BootRef {
	if !slices.ContainsFunc(boots, func(b BootRef) bool { return b.TimeLocal }) {
		return boots
	}
	conv := func(t time.Time) time.Time {
		if t.IsZero() || !has {
			return time.Time{}
		}
		return t.Add(-offset)
	}
	boots = slices.Clone(boots)
	for i := range boots {
		if b := &boots[i]; b.TimeLocal {
			b.Boot.Time, b.Boot.BootTime, b.TimeLocal = conv(b.Boot.Time), conv(b.Boot.BootTime), false
		}
	}
	return boots
}

// resolveLocalTimes converts the wall-clock times of events read from text
// exports (FailureRef.TimeLocal, BootRef.TimeLocal) to UTC; without an
// offset they become unknown rather than be taken for UTC. Boot markers
// from exports take the host's offset; failures then take the offset of
// the boot they fall in (an Application export beside a System.evtx whose
// 6008s give each boot's offset), else the host's, as the store converts
// them at commit. in's slices are copied, never changed.
func resolveLocalTimes(in Input) Input {
	in.Boots = ResolveLocalBoots(in.Boots, in.UTCOffset, in.HasUTCOffset)
	if slices.ContainsFunc(in.Failures, func(f FailureRef) bool { return f.TimeLocal }) {
		zone := CaseZone(BuildSessions(in.Boots), in.UTCOffset, in.HasUTCOffset, in.ZoneSource)
		in.Failures = slices.Clone(in.Failures)
		for i := range in.Failures {
			if f := &in.Failures[i]; f.TimeLocal {
				f.Failure.Time, f.TimeLocal = zone.ToUTC(f.Failure.Time).UTC, false
			}
		}
	}
	return in
}
