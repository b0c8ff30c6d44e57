// What node-soap answers for each fixture of tests/it/node_soap.rs. Every answer is computed from
// the request, so that the test asserts the values both ways.
'use strict';

const events = [];

module.exports = {
  bare: {
    services: {
      Bare: {
        BareSoap: {
          Add(args) {
            return { sum: Number(args.a) + Number(args.b) };
          },
          Store(args) {
            const tags = [].concat(args.item.tags || []);
            return {
              receipt: { id: 1000 + tags.length, summary: `${args.item.name}:${tags.join(',')}` },
              text: args.note === null || args.note === undefined ? 'no note' : `note ${args.note}`,
            };
          },
        },
      },
    },
  },
  rpc_literal: {
    services: {
      GeoService: {
        GeoPort: {
          distance(args) {
            const dlat = Number(args.to.lat) - Number(args.from.lat);
            const dlon = Number(args.to.lon) - Number(args.from.lon);
            return { return: Math.sqrt(dlat * dlat + dlon * dlon), unit: `${args.unit} from ${args.from.label || '?'}` };
          },
        },
      },
    },
  },
  headers: {
    services: {
      Quotes: {
        QuotesSoap: {
          GetQuote(args, callback, headers) {
            const auth = (headers && headers.AuthHeader) || {};
            if (auth.UserName !== 'ali' || auth.Password !== 'p&ss<word>') {
              throw { Fault: { faultcode: 'soap:Client', faultstring: `bad credentials for ${auth.UserName}`, statusCode: 500 } };
            }
            const trace = headers.TraceHeader && headers.TraceHeader.RequestId;
            return { GetQuoteResult: `${args.symbol.length}.${trace ? trace.length : 0}` };
          },
        },
      },
    },
    headers: [
      (method, args, headers) => {
        const trace = headers && headers.TraceHeader && headers.TraceHeader.RequestId;
        let xml = `<QuotaHeader xmlns="http://tempuri.org/"><Remaining>${100 - (trace || '').length}</Remaining></QuotaHeader>`;
        if (args && args.symbol === 'MUST') {
          xml += '<x:Audit xmlns:x="urn:example:audit" soap:mustUnderstand="1">kept</x:Audit>';
        }
        return xml;
      },
    ],
  },
  faults: {
    services: {
      Accounts: {
        // node-soap runs the first port's methods whatever the version; the request's content type tells.
        AccountsSoap11: {
          Withdraw(args, callback, headers, request) {
            return withdraw(args, (request.headers['content-type'] || '').startsWith('application/soap+xml'));
          },
        },
      },
    },
  },
  one_way: {
    services: {
      Events: {
        EventsSoap: {
          Publish(args) {
            events.push(args);
          },
          Count(args) {
            const matching = events.filter((event) => event.topic === args.topic);
            const last = matching[matching.length - 1];
            return { count: matching.length, last: last && last.payload };
          },
        },
      },
    },
    oneWay: { responseCode: 202 },
  },
};

function withdraw(args, soap12) {
  const amount = Number(args.amount);
  const detail = (xml) => ({ $xml: xml });
  let fault = null;
  if (args.account === 'nobody') {
    fault = { reason: 'no such account', code: 'Client', detail: `<a:UnknownAccount xmlns:a="urn:example:accounts">${args.account}</a:UnknownAccount>` };
  } else if (amount > 100) {
    fault = {
      reason: 'insufficient funds',
      code: 'Client',
      detail: `<InsufficientFunds xmlns="urn:example:accounts"><balance>100.00</balance><requested>${args.amount}</requested></InsufficientFunds>`,
    };
  } else if (amount < 0) {
    fault = { reason: 'undeclared', code: 'Server', detail: '<other xmlns="urn:example:other">x</other>' };
  }
  if (fault) {
    if (soap12) {
      throw { Fault: { Code: { Value: `soap:${fault.code === 'Client' ? 'Sender' : 'Receiver'}` }, Reason: { Text: fault.reason }, Detail: detail(fault.detail), statusCode: 500 } };
    }
    throw { Fault: { faultcode: `soap:${fault.code}`, faultstring: fault.reason, detail: detail(fault.detail), statusCode: 500 } };
  }
  return { balance: (100 - amount).toFixed(2) };
}
