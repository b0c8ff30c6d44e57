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
  rpc_encoded: {
    services: {
      Orders: {
        OrdersPort: {
          // node-soap reads typed accessors and soapenc arrays, but writes plain elements: the
          // arrays of the answers are built here as SOAP encoding has them.
          placeOrder(args) {
            const order = args.order;
            const lines = items(order.lines);
            const total = lines.reduce((sum, line) => sum + Number(line.quantity) * Number(line.price), 0);
            const skus = lines.map((line) => `${line.sku}@${order.customer}`).concat(items(order.tags).map(value));
            const note = order.note === undefined || order.note === null ? 'nil' : value(order.note);
            return {
              receipt: {
                total: total + Number(value(args.priority)),
                count: lines.length,
                skus: encodedArray('xsd:string', skus.concat([note])),
              },
            };
          },
          sum(args) {
            const values = items(args.values).map((item) => Number(value(item)));
            const total = values.reduce((a, b) => a + b, 0);
            const doubled = values.map((v) => v * 2);
            if (values.length === 4) {
              // Asked for four values, the answer comes in SOAP encoding's multi-reference form.
              return multiReferenceSum(total, doubled);
            }
            return { total, values: encodedArray('xsd:int', doubled) };
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
  // node-soap serves a request with the port whose address has the request's path; the test serves
  // each service at the path of its published address (see tests/it/node_soap.rs).
  several_services: {
    services: {
      Weather: {
        WeatherSoap: {
          Forecast(args) {
            return { ForecastResult: `sunny in ${args.city}` };
          },
        },
      },
      Stations: {
        StationsSoap: {
          Nearest(args) {
            return { NearestResult: `station at ${Number(args.lat) + Number(args.lon)}` };
          },
        },
      },
    },
  },
};

// A SOAP-encoded array as node-soap reads it: its items (named `item`), one or many, or none.
function items(array) {
  if (array === undefined || array === null) return [];
  if (Array.isArray(array)) return array;
  if (array.item === undefined) return [];
  return [].concat(array.item);
}

// A typed accessor's value: node-soap gives `{ attributes, $value }` for one with attributes.
function value(accessor) {
  return accessor !== null && typeof accessor === 'object' && '$value' in accessor ? accessor.$value : accessor;
}

// The answer of `sum` with every value by reference (SOAP 1.1 §5.4.1), as Apache Axis writes
// it: the accessors carry `href="#id"` and the values are `multiRef` elements, written first
// (node-soap writes raw XML only inside the wrapper). The first two items share one value.
function multiReferenceSum(total, doubled) {
  const declarations =
    'xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';
  const [first, , third, fourth] = doubled;
  const multiRef = (id, type, text) =>
    `<multiRef id="${id}" soapenc:root="0" ${declarations} xsi:type="${type}">${text}</multiRef>`;
  const array =
    `<multiRef id="values" soapenc:root="0" ${declarations} xsi:type="soapenc:Array" soapenc:arrayType="xsd:int[4]">` +
    `<item href="#shared"/><item href="#shared"/><item>${third}</item><item href="#last"/></multiRef>`;
  return {
    $xml:
      multiRef('total', 'xsd:long', total) +
      array +
      multiRef('shared', 'xsd:int', first) +
      multiRef('last', 'xsd:int', fourth),
    total: { attributes: { href: '#total' } },
    values: { attributes: { href: '#values' } },
  };
}

// A `soapenc:Array` of `type` items, as node-soap writes an object.
function encodedArray(type, values) {
  return {
    attributes: {
      'xmlns:soapenc': 'http://schemas.xmlsoap.org/soap/encoding/',
      'xmlns:xsd': 'http://www.w3.org/2001/XMLSchema',
      'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      'xsi:type': 'soapenc:Array',
      'soapenc:arrayType': `${type}[${values.length}]`,
    },
    item: values,
  };
}

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
